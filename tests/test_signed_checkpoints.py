"""Proof that holds against whoever runs the server: a checkpoint signed and kept (mailed) before the change exposes
a forger who knows the algorithm and recomputes every hash, the chain head and the attestations; an incident's
proof verifies offline with the public key alone; a checkpoint signed with another key is refused."""

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path

import pendulum
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import col, select

from models.checkpoints import CHECKPOINT_HEADER, log_name
from models.db import session_scope
from models.timeline import GENESIS_HASH, ChainHead, TimelineEntry, entry_digest
from proof.checkpoint import Checkpoint, sign_checkpoint
from proof.keys import SigningKey
from tests.conftest import AUDITOR
from tests.store_probe import execute
from tests.walkers import declared, timeline_of

AT = "2026-11-28T10:00:00+01:00"
ROOT = Path(__file__).resolve().parents[1]


def kept_checkpoint(cli, tmp_path) -> tuple[str, Path]:
    """Two incidents declared, a checkpoint signed and kept by an auditor (as a mail would have carried it)."""
    ref = declared(cli, tmp_path, at=AT)["ref"]
    declared(cli, tmp_path, at=AT, title="Second incident")
    result = cli("checkpoint", "--by", AUDITOR)
    assert result.exit_code == 0, result.output
    held = tmp_path / "checkpoint.txt"
    held.write_text(result.stdout, encoding="utf-8")
    return ref, held


def rehash_everything() -> None:
    """What a forger who knows the algorithm does after an edit: every hash and the chain head recomputed."""
    with session_scope() as session:
        previous, last = GENESIS_HASH, 0
        for entry in session.exec(select(TimelineEntry).order_by(col(TimelineEntry.seq))).all():
            entry.prev_hash = previous
            entry.hash = entry_digest(entry)
            previous, last = entry.hash, entry.seq
            session.add(entry)
        head = session.get(ChainHead, 1)
        assert head is not None
        head.seq, head.hash = last, previous
        session.add(head)


def verify_against(cli, held: Path) -> tuple[int, str]:
    result = cli("verify", "--checkpoint", str(held), "--by", AUDITOR)
    return result.exit_code, (result.stdout + result.stderr).strip()


def test_an_untouched_timeline_extends_the_kept_checkpoint(cli, tmp_path):
    _, held = kept_checkpoint(cli, tmp_path)
    declared(cli, tmp_path, at=AT, title="Un troisième, après le point de contrôle")
    code, said = verify_against(cli, held)
    assert code == 0, said
    assert "La chronologie prolonge le point de contrôle conservé" in said


def test_an_entry_altered_and_every_hash_recomputed_is_detected(cli, store, tmp_path):
    ref, held = kept_checkpoint(cli, tmp_path)
    first = timeline_of(cli, ref)[0]
    forged = {**first["payload"], "municipality": "54998"}
    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?", json.dumps(forged), first["seq"])
    rehash_everything()
    assert cli("verify", "--by", AUDITOR).exit_code == 0  # the chain alone agrees with itself again
    code, said = verify_against(cli, held)
    assert code == 1
    assert "Point de contrôle contredit : les " in said and "premières entrées ne sont plus celles que le point " \
        "de contrôle atteste" in said


def test_the_last_entries_and_the_head_deleted_are_detected(cli, store, tmp_path):
    _, held = kept_checkpoint(cli, tmp_path)
    size = int(held.read_text(encoding="utf-8").splitlines()[1])
    execute(store, "DELETE FROM timeline_entry WHERE seq > ?", size - 3)
    execute(store, "DELETE FROM chain_head")
    code, said = verify_against(cli, held)
    assert code == 1
    assert f"la chronologie ne compte plus que {size - 3} entrées, le point de contrôle en attestait {size}" in said


def test_an_entry_inserted_in_the_middle_is_detected(cli, store, tmp_path):
    ref, held = kept_checkpoint(cli, tmp_path)
    middle = timeline_of(cli, ref)[1]
    execute(store, "UPDATE timeline_entry SET seq = seq + 1000000 WHERE seq >= ?", middle["seq"])
    execute(store, "UPDATE timeline_entry SET seq = seq - 999999 WHERE seq >= 1000000")
    execute(store, "INSERT INTO timeline_entry (seq, incident_id, incident_ref, occurred_at, recorded_at, actor, "
                   "party, kind, payload, prev_hash, hash) SELECT ?, incident_id, incident_ref, occurred_at, "
                   "recorded_at, actor, party, 'follow_up_recorded', '{\"summary\":\"Tout est réglé.\"}', '', '' "
                   "FROM timeline_entry WHERE seq = ?", middle["seq"], middle["seq"] + 1)
    rehash_everything()
    code, said = verify_against(cli, held)
    assert code == 1 and "premières entrées ne sont plus celles" in said


def test_an_entry_moved_to_another_incident_and_rehashed_is_detected(cli, store, tmp_path):
    ref, held = kept_checkpoint(cli, tmp_path)
    entry = timeline_of(cli, ref)[0]
    execute(store, "UPDATE timeline_entry SET incident_id = (SELECT id FROM incident WHERE ref = 'INC-2026-0002'), "
                   "incident_ref = 'INC-2026-0002' WHERE seq = ?", entry["seq"])
    rehash_everything()
    code, said = verify_against(cli, held)
    assert code == 1 and "premières entrées ne sont plus celles" in said


def test_a_title_edited_with_its_attestation_and_every_hash_recomputed_is_detected(cli, store, tmp_path):
    ref, held = kept_checkpoint(cli, tmp_path)
    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref = ?", ref)
    with session_scope() as session:  # the forger rewrites the attestation too
        from models.attestation import STATE_KEY, fingerprint

        for entry in session.exec(select(TimelineEntry).where(TimelineEntry.incident_ref == ref)).all():
            state = copy.deepcopy(entry.payload.get(STATE_KEY) or {})  # a new value, for the ORM to write
            for fields in state.values():
                if "title" in fields:
                    fields["title"] = fingerprint("Rien de grave")
            entry.payload = {**entry.payload, STATE_KEY: state} if state else entry.payload
            session.add(entry)
    rehash_everything()
    plain = cli("verify", "--by", AUDITOR)
    assert plain.exit_code == 0, plain.output  # nothing left for the store alone to notice
    code, said = verify_against(cli, held)
    assert code == 1 and "premières entrées ne sont plus celles" in said


def test_a_checkpoint_signed_with_another_key_is_refused(cli, tmp_path):
    kept_checkpoint(cli, tmp_path)
    other = SigningKey(log_name(), Ed25519PrivateKey.generate())
    forged = tmp_path / "forged.txt"
    forged.write_text(sign_checkpoint(Checkpoint(log_name(), 1, bytes(32), pendulum.now("UTC")), other),
                      encoding="utf-8")
    code, said = verify_against(cli, forged)
    assert code == 2
    assert said.startswith(f"Refusé : le point de contrôle « {forged} » : ")


def test_an_incidents_proof_verifies_offline_with_the_public_key_alone_and_fails_when_an_entry_is_altered(
        cli, tmp_path):
    ref = declared(cli, tmp_path, at=AT)["ref"]
    public = cli("checkpoint", "--public-key", "--by", AUDITOR).stdout.strip()
    written = tmp_path / "preuve.json"
    result = cli("proof", ref, "--output", str(written), "--by", AUDITOR)
    assert result.exit_code == 0, result.output

    offline = [sys.executable, "-m", "proof.offline", "--public-key", public, str(written)]
    checked = subprocess.run(offline, capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"},
                             check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    document = json.loads(written.read_text(encoding="utf-8"))
    document["entries"][0]["canonical"] = document["entries"][0]["canonical"].replace("54999", "54998")
    written.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    refused = subprocess.run(offline, capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"},
                             check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr


def test_every_mail_carries_the_latest_checkpoint(cli, smtp, tmp_path):
    declared(cli, tmp_path, at=AT)
    assert cli("watch", "--at", AT).exit_code == 0  # a pass: delivers, then signs a checkpoint of what it added
    declared(cli, tmp_path, at=AT, title="Deuxième")
    assert cli("watch", "--at", AT).exit_code == 0
    public = cli("checkpoint", "--public-key", "--by", AUDITOR).stdout.strip()
    later = [received.message for received in smtp.received[-3:]]
    assert later
    for message in later:
        note = base64.b64decode(str(message[CHECKPOINT_HEADER])).decode("utf-8")
        assert note.splitlines()[0] == log_name()
        from proof.checkpoint import open_checkpoint
        from proof.keys import parse_verifier_key

        assert open_checkpoint(note, parse_verifier_key(public)).size > 0


def test_an_export_rehashed_end_to_end_is_refused_against_a_kept_checkpoint_and_nothing_may_follow_its_head(
        cli, store, tmp_path):
    ref, held = kept_checkpoint(cli, tmp_path)
    public = cli("checkpoint", "--public-key", "--by", AUDITOR).stdout.strip()
    honest = tmp_path / "archive.jsonl"
    assert cli("export", "--format", "jsonl", "-o", str(honest), "--by", AUDITOR).exit_code == 0
    offline = cli("verify", "--export", str(honest), "--checkpoint", str(held), "--public-key", public)
    assert offline.exit_code == 0, offline.output
    assert "premières entrées sont celles du point de contrôle conservé" in offline.stdout
    assert "clé publique de ce serveur" not in offline.stdout
    trusting = cli("verify", "--export", str(honest), "--checkpoint", str(held))
    assert trusting.exit_code == 0, trusting.output
    assert "(Signature vérifiée avec la clé publique de ce serveur : pour ne pas dépendre de lui, donnez la vôtre " \
           "avec --public-key.)" in trusting.stdout

    appended = tmp_path / "allonge.jsonl"
    appended.write_text(honest.read_text(encoding="utf-8") + honest.read_text(encoding="utf-8").splitlines()[0]
                        + "\n", encoding="utf-8")
    after_head = cli("verify", "--export", str(appended))
    assert after_head.exit_code == 1 and "ligne après la tête de chaîne" in after_head.stderr

    first = timeline_of(cli, ref)[0]
    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?",
            json.dumps({**first["payload"], "municipality": "54998"}), first["seq"])
    rehash_everything()
    forged = tmp_path / "forge.jsonl"
    assert cli("export", "--format", "jsonl", "-o", str(forged), "--by", AUDITOR).exit_code == 0
    assert cli("verify", "--export", str(forged)).exit_code == 0  # consistent with itself
    refused = cli("verify", "--export", str(forged), "--checkpoint", str(held), "--public-key", public)
    assert refused.exit_code == 1
    assert "ne sont pas celles qu'atteste le point de contrôle conservé" in refused.stderr


def test_a_consistency_proof_from_a_kept_checkpoint_verifies_offline_and_an_inclusion_proof_does_not_stand_in(
        cli, tmp_path):
    ref, held = kept_checkpoint(cli, tmp_path)
    declared(cli, tmp_path, at=AT, title="Après le point de contrôle")
    public = cli("checkpoint", "--public-key", "--by", AUDITOR).stdout.strip()
    proof_file, inclusion = tmp_path / "coherence.json", tmp_path / "preuve.json"
    assert cli("consistency", "--since", str(held), "-o", str(proof_file), "--by", AUDITOR).exit_code == 0
    assert cli("proof", ref, "-o", str(inclusion), "--by", AUDITOR).exit_code == 0

    def offline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "proof.offline", "--public-key", public, *args],
                              capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, check=False)

    kept = offline("--checkpoint", str(held), str(proof_file))
    assert kept.returncode == 0, kept.stdout + kept.stderr
    beside = offline("--checkpoint", str(held), str(inclusion))
    assert beside.returncode == 1 and "demandez la preuve de cohérence" in beside.stdout + beside.stderr


def test_verify_checks_a_kept_checkpoint_with_the_auditors_own_public_key(cli, tmp_path):
    _, held = kept_checkpoint(cli, tmp_path)
    public = cli("checkpoint", "--public-key", "--by", AUDITOR).stdout.strip()
    assert verify_with_key(cli, held, public)[0] == 0
    other = SigningKey(log_name(), Ed25519PrivateKey.generate()).public_text()
    code, said = verify_with_key(cli, held, other)
    assert code == 2 and said.startswith(f"Refusé : le point de contrôle « {held} » : ")


def verify_with_key(cli, held: Path, key: str) -> tuple[int, str]:
    result = cli("verify", "--checkpoint", str(held), "--public-key", key, "--by", AUDITOR)
    return result.exit_code, (result.stdout + result.stderr).strip()


def test_each_note_signs_the_chain_hash_of_its_last_entry(cli, tmp_path):
    _, held = kept_checkpoint(cli, tmp_path)
    lines = held.read_text(encoding="utf-8").splitlines()
    size = int(lines[1])
    [(last_hash,)] = execute_rows("SELECT hash FROM timeline_entry WHERE seq = ?", size)
    assert lines[4] == f"chain {last_hash}"


def execute_rows(sql: str, *parameters):
    from sqlalchemy import text

    with session_scope() as session:
        return list(session.execute(text(sql.replace("?", ":p")), {"p": parameters[0]} if parameters else {}))


def test_the_engine_refuses_to_sign_a_rewritten_history_and_says_so(cli, store, tmp_path):
    ref, held = kept_checkpoint(cli, tmp_path)
    signed = len(cli("checkpoints", "--by", AUDITOR).stdout.split("\n\n"))
    first = timeline_of(cli, ref)[0]
    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?",
            json.dumps({**first["payload"], "municipality": "54998"}), first["seq"])
    rehash_everything()

    refused = cli("checkpoint", "--by", AUDITOR)
    assert refused.exit_code == 1
    size = int(held.read_text(encoding="utf-8").splitlines()[1])
    assert refused.stderr.strip() == (f"Point de contrôle non signé : l'entrée n° {size} n'a plus l'empreinte que le "
                                      "dernier point de contrôle signé atteste : des entrées ont été réécrites, puis "
                                      "les empreintes recalculées.")
    declared(cli, tmp_path, at=AT, title="Déclaré après la réécriture")  # new entries, that a pass would sign
    passed = cli("watch", "--at", "2026-11-28T11:00:00+01:00")  # the pass's work stands; it signs nothing
    assert passed.exit_code == 0, passed.output
    assert len(cli("checkpoints", "--by", AUDITOR).stdout.split("\n\n")) == signed
    status = cli("status", "--by", "rssi@ac-nancy-metz.example.org")
    assert status.exit_code == 3
    assert "le moteur ne signe plus de point de contrôle : l'entrée n° " in status.stdout


def test_entries_deleted_after_a_checkpoint_are_named_as_deleted_not_as_rewritten(cli, store, tmp_path):
    _, held = kept_checkpoint(cli, tmp_path)
    size = int(held.read_text(encoding="utf-8").splitlines()[1])
    execute(store, "DELETE FROM timeline_entry WHERE seq > ?", size - 2)  # the head still counts them

    refused = cli("checkpoint", "--by", AUDITOR)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (f"Point de contrôle non signé : l'entrée n° {size}, que le dernier point de "
                                      "contrôle signé atteste, a disparu : des entrées ont été supprimées.")


def test_a_rewrite_hidden_by_deleting_the_checkpoints_is_noticed_from_the_copy_beside_the_key(cli, store, tmp_path):
    ref, _ = kept_checkpoint(cli, tmp_path)
    first = timeline_of(cli, ref)[0]
    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?",
            json.dumps({**first["payload"], "municipality": "54998"}), first["seq"])
    rehash_everything()
    execute(store, "DELETE FROM signed_checkpoint")
    refused = cli("checkpoint", "--by", AUDITOR)
    assert refused.exit_code == 1
    assert "n'a plus l'empreinte que le dernier point de contrôle signé atteste" in refused.stderr
    (tmp_path / "var" / "checkpoint-latest.note").unlink()  # a new log, deliberately: it signs again
    assert cli("checkpoint", "--by", AUDITOR).exit_code == 0
