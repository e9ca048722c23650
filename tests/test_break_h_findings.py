"""Breaker's probes: records an auditor relies on, edited beside the door or forged in an export, and values built
to crash the checks: each named by verify, the audit file or the signing guard, never a traceback."""

import sqlite3

import pytest

from tests.store_probe import execute
from tests.test_drafts_reach_the_dpd_as_documents import decided
from tests.walkers import declared

AT = "2026-11-28T10:00:00+01:00"


def rows(store, sql, *params):
    with sqlite3.connect(store) as connection:
        return connection.execute(sql, params).fetchall()


def test_files_a_delivered_message_carried_edited_in_the_outbox_are_named(cli, store, tmp_path):
    decided(cli, tmp_path)
    files = rows(store, "SELECT a.id, a.filename, m.status, m.template FROM outbox_attachment a "
                        "JOIN outbox_message m ON m.id = a.message_id")
    assert files and any(status == "sent" for _, _, status, _ in files)
    assert cli("verify").exit_code == 0
    execute(store, "UPDATE outbox_attachment SET content = X'00' WHERE id = ?", files[0][0])
    result = cli("verify")
    assert result.exit_code == 1
    assert "(modifié hors de la porte unique : fichiers joints)" in result.stderr


def test_the_audit_file_of_an_incident_whose_creation_entry_is_shown_under_another(cli, store, tmp_path):
    """The entry's display id is not covered by its hash: moved to another incident, the audit file of the first
    no longer sees the attestation of its title, and the title edited beside the door passes unnoticed there."""
    first = declared(cli, tmp_path, at=AT)["ref"]
    second = declared(cli, tmp_path, at=AT, title="Autre incident")["ref"]
    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref = ?", first)
    execute(store, "UPDATE timeline_entry SET incident_id = (SELECT id FROM incident WHERE ref = ?) "
                   "WHERE incident_ref = ? AND kind = 'declared'", second, first)
    assert cli("verify").exit_code == 1  # the whole store's check names it
    audit = cli("audit", first, "--at", "2026-11-28T16:00:00+01:00")
    assert audit.exit_code == 0, audit.output
    assert "Les enregistrements de cet incident correspondent à ce qu'atteste la chronologie." not in audit.stdout
    assert "l&#39;entrée n° 1 de cet incident est rattachée à un autre incident" in audit.stdout
    assert "(modifié hors de la porte unique : titre)" in audit.stdout


def test_the_engine_refuses_to_sign_an_entry_rewritten_before_its_last_checkpoint_left_unhashed(cli, store,
                                                                                                   tmp_path):
    """The guard compares one stored hash (the last signed entry's) with the note: an entry before it altered
    without recomputing any hash keeps that hash; with the checkpoints' rows deleted, the engine rebuilt its tree
    from the altered entries and signed it, a tree that does not extend its last checkpoint."""
    import json

    from tests.test_signed_checkpoints import AUDITOR, kept_checkpoint
    from tests.walkers import timeline_of

    ref, held = kept_checkpoint(cli, tmp_path)
    first = timeline_of(cli, ref)[0]
    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?",
            json.dumps({**first["payload"], "municipality": "54998"}), first["seq"])
    execute(store, "DELETE FROM signed_checkpoint")
    declared(cli, tmp_path, at=AT, title="Déclaré après la réécriture")  # new entries to sign
    refused = cli("checkpoint", "--by", AUDITOR)
    assert refused.exit_code == 1, refused.output
    assert "ne sont plus celles" in refused.stderr


def test_the_engine_refuses_to_extend_a_frontier_forged_in_the_latest_checkpoint_row(cli, store, tmp_path):
    """The stored frontier is checked against the row's root column, both in the database: forged together (the
    tree of altered entries), the engine extended the forged tree."""
    import json

    from models.db import session_scope
    from proof.merkle import Frontier
    from tests.test_signed_checkpoints import AUDITOR, kept_checkpoint
    from tests.walkers import timeline_of

    ref, held = kept_checkpoint(cli, tmp_path)
    size = int(held.read_text(encoding="utf-8").splitlines()[1])
    first = timeline_of(cli, ref)[0]
    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?",
            json.dumps({**first["payload"], "municipality": "54998"}), first["seq"])
    with session_scope() as session:
        from models.checkpoints import leaves
        frontier = Frontier()
        frontier.extend(leaves(session, 0, size))
    execute(store, "UPDATE signed_checkpoint SET root = ?, frontier = ? WHERE size = ?",
            frontier.root().hex(), json.dumps(frontier.to_dict()), size)
    declared(cli, tmp_path, at=AT, title="Déclaré après la réécriture")
    refused = cli("checkpoint", "--by", AUDITOR)
    assert refused.exit_code == 1, refused.output


@pytest.mark.parametrize("sql", [
    "UPDATE incident SET aware_at = 'hier soir'",
    "UPDATE incident SET categories = '[\"vendor\"'",
])
def test_a_garbled_field_is_named_not_a_traceback(cli, store, tmp_path, sql):
    declared(cli, tmp_path, at=AT)
    execute(store, sql)
    result = cli("verify")
    assert result.exit_code == 1, result.output


def test_an_export_with_a_forged_copy_of_a_record_before_the_real_one_is_refused(cli, tmp_path):
    """`verify --export` keys records by table and id, the last line winning: a forged line for the same record,
    put before the genuine one (every line hash recomputed), was never compared, while a reader of the export
    (jq, a spreadsheet) meets it first."""
    import json

    from models.timeline import GENESIS_HASH
    from reports.export import _line_hash

    declared(cli, tmp_path, at=AT)
    honest = tmp_path / "archive.jsonl"
    assert cli("export", "--format", "jsonl", "-o", str(honest), "--by", "audit-ent@ac-nancy-metz.example.org"
               ).exit_code == 0
    lines, previous = [], GENESIS_HASH
    for text in honest.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        del line["line_hash"]
        records = [line]
        if line["type"] == "incident":
            records = [{**line, "title": "Incident sans gravité"}, line]
        for record in records:
            previous = _line_hash(previous, record)
            lines.append(json.dumps({**record, "line_hash": previous}, ensure_ascii=False))
    forged = tmp_path / "forge.jsonl"
    forged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused = cli("verify", "--export", str(forged))
    assert refused.exit_code == 1, refused.output
    assert "enregistrement donné deux fois" in refused.stderr


def test_a_proof_file_whose_entry_text_carries_a_lone_surrogate_is_refused_not_a_traceback():
    """JSON may escape a lone surrogate (\\ud800): encoding it for the leaf hash raised UnicodeEncodeError, a
    traceback of `python -m proof.offline` rather than its exit status 2."""
    from proof.document import _entry_leaf
    from proof.errors import MalformedProofFile

    with pytest.raises(MalformedProofFile):
        _entry_leaf({"index": 0, "canonical": "\ud800", "inclusion_path": []}, 1)
