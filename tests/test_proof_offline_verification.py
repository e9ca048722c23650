"""An auditor holding only the public key verifies, offline, that an incident's entries are in the signed log and
that a newer checkpoint extends the one they hold; an altered entry, a rewritten or truncated history, and a
checkpoint signed with another key all fail, each named, with a non-zero exit."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proof.checkpoint import Checkpoint, sign_checkpoint
from proof.document import ProofEntry, consistency_document, dump_document, inclusion_document
from proof.errors import InvalidProof
from proof.keys import SigningKey
from proof.merkle import leaf_hash
from proof.offline import run
from proof.tree import MerkleTree

ROOT_DIR = Path(__file__).resolve().parent.parent
ORIGIN = "ac-nancy-metz.fr/incidents"
KEY = SigningKey(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
OTHER_KEY = SigningKey(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))))
TEXTS = [json.dumps({"seq": i + 1, "kind": "declared" if i % 7 == 0 else "alert_sent", "incident_ref": f"INC-2026-"
                     f"{i // 7 + 1:04d}"}, sort_keys=True, separators=(",", ":")) for i in range(1000)]
TREE = MerkleTree(leaf_hash(text.encode()) for text in TEXTS)
T_OLD, T_NEW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC), datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
OLD = sign_checkpoint(Checkpoint(ORIGIN, 600, TREE.root(600), T_OLD), KEY)
NEW = sign_checkpoint(Checkpoint(ORIGIN, 1000, TREE.root(), T_NEW), KEY)
INCIDENT_ENTRIES = [0, 1, 2, 6, 999]  # the indices of one incident's entries


@pytest.fixture
def store() -> None:
    """Pure functions: no register to create (replaces the suite's per-test store)."""


def write(folder: Path, name: str, content: str | dict) -> str:
    path = folder / name
    path.write_text(content if isinstance(content, str) else dump_document(content), encoding="utf-8")
    return str(path)


def verify(*args: str) -> tuple[int, list[str]]:
    return run(["--public-key", KEY.public_text(), *args])


def incident_proof() -> dict:
    return inclusion_document(NEW, TREE, [ProofEntry(i, TEXTS[i]) for i in INCIDENT_ENTRIES])


def test_an_incident_proof_verifies_with_the_public_key_alone(tmp_path):
    status, lines = verify(write(tmp_path, "preuve.json", incident_proof()))
    assert status == 0
    assert lines == [
        f"Clé publique : {KEY.public_text()}.",
        f"Point de contrôle signé par la clé attendue : journal « {ORIGIN} », 1\u202f000 entrées, racine "
        f"{TREE.root().hex()}, pris le 21/11/2026 à 10:00:00 (heure de Paris).",
        "Entrée n° 1 du journal (indice 0) : incluse (chemin de 10 empreintes).",
        "Entrée n° 2 du journal (indice 1) : incluse (chemin de 10 empreintes).",
        "Entrée n° 3 du journal (indice 2) : incluse (chemin de 10 empreintes).",
        "Entrée n° 7 du journal (indice 6) : incluse (chemin de 10 empreintes).",
        "Entrée n° 1\u202f000 du journal (indice 999) : incluse (chemin de 8 empreintes).",
        "Résultat : les 5 entrées sont dans le journal signé.",
    ]


def test_the_proof_file_is_the_documented_format():
    document = incident_proof()
    assert set(document) == {"format", "version", "kind", "checkpoint", "entries"}
    assert (document["format"], document["version"], document["kind"]) == ("ent-incidents-proof", 1, "inclusion")
    first = document["entries"][0]
    assert first == {"index": 0, "canonical": TEXTS[0], "leaf_hash": leaf_hash(TEXTS[0].encode()).hex(),
                     "inclusion_path": [value.hex() for value in TREE.inclusion_proof(0)]}


def test_an_entry_altered_with_its_hashes_recomputed_fails(tmp_path):
    document = incident_proof()
    forged = TEXTS[6].replace("alert_sent", "closed")
    assert forged != TEXTS[6]
    document["entries"][3]["canonical"] = forged
    document["entries"][3]["leaf_hash"] = leaf_hash(forged.encode()).hex()
    status, lines = verify(write(tmp_path, "preuve.json", document))
    assert status == 1
    assert "Entrée n° 7 du journal (indice 6) : NON PROUVÉE — le chemin d'inclusion ne mène pas à la racine " \
           "signée." in lines
    assert lines[-1] == "Résultat : ÉCHEC — 1 entrée sur 5 n'est pas prouvée."


def test_an_entry_altered_without_its_leaf_hash_fails(tmp_path):
    document = incident_proof()
    document["entries"][0]["canonical"] = TEXTS[0].replace("INC-2026-0001", "INC-2026-0002")
    status, lines = verify(write(tmp_path, "preuve.json", document))
    assert status == 1
    assert lines[2] == ("Entrée n° 1 du journal (indice 0) : NON PROUVÉE — le texte canonique ne donne pas "
                        "l'empreinte de feuille annoncée : il a été modifié.")


def test_an_entry_moved_to_another_position_fails(tmp_path):
    document = incident_proof()
    document["entries"][1]["index"] = 5
    status, lines = verify(write(tmp_path, "preuve.json", document))
    assert status == 1 and lines[3].startswith("Entrée n° 6 du journal (indice 5) : NON PROUVÉE")


def test_an_entry_given_by_its_leaf_hash_alone_verifies(tmp_path):
    document = inclusion_document(NEW, TREE, [ProofEntry(41, leaf_hash=leaf_hash(TEXTS[41].encode()))])
    assert "canonical" not in document["entries"][0]
    status, lines = verify(write(tmp_path, "preuve.json", document))
    assert status == 0 and lines[-1] == "Résultat : l'entrée est dans le journal signé."


def test_a_proof_signed_with_another_key_is_refused(tmp_path):
    forged_checkpoint = sign_checkpoint(Checkpoint(ORIGIN, 1000, TREE.root(), T_NEW), OTHER_KEY)
    document = inclusion_document(forged_checkpoint, TREE, [ProofEntry(0, TEXTS[0])])
    status, lines = verify(write(tmp_path, "preuve.json", document))
    assert status == 1
    assert lines[1:] == [f"Point de contrôle refusé : signé par une autre clé : « {ORIGIN}+{OTHER_KEY.key_id.hex()} » "
                         f"; clé attendue « {KEY.public_text()} ».", "Résultat : ÉCHEC."]


def test_a_checkpoint_altered_in_the_proof_file_is_refused(tmp_path):
    document = incident_proof()
    document["checkpoint"] = document["checkpoint"].replace("\n1000\n", "\n1001\n")
    status, lines = verify(write(tmp_path, "preuve.json", document))
    assert status == 1
    assert lines[1].startswith("Point de contrôle refusé : la signature de la clé")
    assert lines[1].endswith("le texte a été modifié après sa signature.")


def test_a_newer_checkpoint_extends_the_one_the_auditor_holds(tmp_path):
    held = write(tmp_path, "ancien.txt", OLD)
    status, lines = verify("--checkpoint", held, write(tmp_path, "coherence.json",
                                                       consistency_document(OLD, NEW, TREE)))
    assert status == 0
    assert lines[1] == (f"Ancien point de contrôle, détenu par l'auditeur : journal « {ORIGIN} », 600 entrées, "
                        f"racine {TREE.root(600).hex()}, pris le 20/11/2026 à 10:00:00 (heure de Paris).")
    assert lines[-1] == ("Résultat : le journal de 1\u202f000 entrées prolonge celui de 600 entrées sans rien en "
                         "retirer ni modifier (preuve de 8 empreintes).")


def test_a_rewritten_history_fails_against_the_held_checkpoint(tmp_path):
    """The operator alters entry n° 11, recomputes everything and signs a new checkpoint with the real key."""
    forged_texts = list(TEXTS)
    forged_texts[10] = forged_texts[10].replace("alert_sent", "declared")
    forged_tree = MerkleTree(leaf_hash(text.encode()) for text in forged_texts)
    forged_new = sign_checkpoint(Checkpoint(ORIGIN, 1000, forged_tree.root(), T_NEW), KEY)
    with pytest.raises(InvalidProof):  # the log itself refuses to hand out a proof that fails
        consistency_document(OLD, forged_new, forged_tree)
    document = {"format": "ent-incidents-proof", "version": 1, "kind": "consistency", "old_checkpoint": OLD,
                "new_checkpoint": forged_new,
                "consistency_path": [value.hex() for value in forged_tree.consistency_proof(600)]}
    status, lines = verify("--checkpoint", write(tmp_path, "ancien.txt", OLD),
                           write(tmp_path, "coherence.json", document))
    assert status == 1
    assert lines[-1] == ("Résultat : ÉCHEC — le nouveau journal ne prolonge pas l'ancien : la preuve ne retrouve "
                         "pas la racine ancienne (600 feuilles) : l'historique a été réécrit.")


def test_a_truncated_log_fails_against_the_held_checkpoint(tmp_path):
    """The last entries deleted: the operator signs a checkpoint of 500 entries after one of 600 was published."""
    truncated = sign_checkpoint(Checkpoint(ORIGIN, 500, TREE.root(500), T_NEW), KEY)
    document = {"format": "ent-incidents-proof", "version": 1, "kind": "consistency", "new_checkpoint": truncated,
                "consistency_path": []}
    status, lines = verify("--checkpoint", write(tmp_path, "ancien.txt", OLD),
                           write(tmp_path, "coherence.json", document))
    assert status == 1
    assert lines[-1] == ("Résultat : ÉCHEC — le nouveau journal ne prolonge pas l'ancien : l'arbre a rétréci : "
                         "600 feuilles avant, 500 après.")


def test_without_a_held_checkpoint_the_file_s_own_is_used_and_said_so(tmp_path):
    status, lines = verify(write(tmp_path, "coherence.json", consistency_document(OLD, NEW, TREE)))
    assert status == 0
    assert lines[1].startswith("Ancien point de contrôle, lu dans le fichier (à comparer avec celui que vous avez "
                               "reçu) : ")


@pytest.mark.parametrize(("content", "message"), [
    ("{", "Vérification impossible : fichier de preuve illisible : JSON invalide (ligne 1)."),
    ('{"format": "ent-incidents-proof", "version": 2, "kind": "inclusion"}',
     "Vérification impossible : fichier de preuve de version « 2 » : seule la version 1 est connue."),
    ('{"format": "ent-incidents-proof", "version": 1, "kind": "inclusion", "checkpoint": "x"}',
     None),
    ('{"format": "ent-incidents-proof", "version": 1, "kind": "inclusion", "checkpoint": "CP", "entries": []}',
     "Vérification impossible : fichier de preuve illisible : liste « entries » absente ou vide."),
    ('{"format": "ent-incidents-proof", "version": 1, "kind": "inclusion", "checkpoint": "CP", "entries": '
     '[{"index": 0, "leaf_hash": "ABC", "inclusion_path": []}]}',
     "Vérification impossible : fichier de preuve illisible : « leaf_hash » de l'entrée n° 1 de la liste contient "
     "« ABC », qui n'est pas une empreinte SHA-256 en hexadécimal (64 chiffres minuscules)."),
])
def test_an_unreadable_proof_file_exits_with_2_or_1_naming_the_problem(tmp_path, content, message):
    status, lines = verify(write(tmp_path, "preuve.json", content.replace('"CP"', json.dumps(NEW))))
    if message is None:  # a checkpoint that is not a signed note: refused as such
        assert status == 1 and lines[1] == ("Point de contrôle refusé : note signée mal formée : elle doit finir "
                                            "par un saut de ligne.")
    else:
        assert (status, lines[-1]) == (2, message)


def test_a_missing_file_or_a_bad_key_exits_with_2(tmp_path):
    assert run(["--public-key", KEY.public_text(), str(tmp_path / "absent.json")]) == \
        (2, [f"Vérification impossible : fichier de preuve {tmp_path / 'absent.json'} introuvable."])
    status, lines = run(["--public-key", "n'importe quoi", write(tmp_path, "preuve.json", incident_proof())])
    assert status == 2 and lines[0].startswith("Vérification impossible : clé publique attendue")


def test_the_command_runs_standalone_reading_the_key_from_a_file(tmp_path):
    key_file = write(tmp_path, "cle.pub", KEY.public_text() + "\n")
    proof_file = write(tmp_path, "preuve.json", incident_proof())
    done = subprocess.run([sys.executable, "-m", "proof.offline", "--public-key", key_file, proof_file],
                          cwd=ROOT_DIR, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Résultat : les 5 entrées sont dans le journal signé."
    document = json.loads(Path(proof_file).read_text())
    document["entries"][0]["canonical"] = TEXTS[1]
    Path(proof_file).write_text(json.dumps(document))
    done = subprocess.run([sys.executable, "-m", "proof.offline", "--public-key", key_file, proof_file],
                          cwd=ROOT_DIR, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "NON PROUVÉE" in done.stdout


def test_an_entry_given_twice_is_refused_rather_than_counted_twice(tmp_path):
    document = incident_proof()
    document["entries"].append(document["entries"][0])
    status, lines = verify(write(tmp_path, "preuve.json", document))
    assert (status, lines[-1]) == (2, "Vérification impossible : fichier de preuve illisible : entrée n° 6 de la "
                                      "liste en double (indice 0 déjà prouvé).")


def test_an_inclusion_proof_against_a_held_checkpoint_passes_only_if_it_is_the_same(tmp_path):
    proof = write(tmp_path, "preuve.json", incident_proof())
    status, lines = verify("--checkpoint", write(tmp_path, "garde.txt", NEW), proof)
    assert status == 0 and lines[-2] == "Le point de contrôle de la preuve est celui que vous avez conservé."
    forged = sign_checkpoint(Checkpoint(ORIGIN, 1000, TREE.root(999), T_NEW), KEY)  # same size, other root
    status, lines = verify("--checkpoint", write(tmp_path, "contredit.txt", forged), proof)
    assert status == 1
    assert lines[-2:] == ["Le point de contrôle conservé (--checkpoint) contredit celui de la preuve : même taille "
                          "(1\u202f000 entrées), racines différentes. Le journal a été réécrit.", "Résultat : ÉCHEC."]
    status, lines = verify("--checkpoint", write(tmp_path, "ancien.txt", OLD), proof)
    assert status == 1 and lines[-1] == "Résultat : ÉCHEC."
