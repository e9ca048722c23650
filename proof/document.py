"""The proof files an auditor verifies offline with the log's public key alone (format version 1, JSON, UTF-8).

Inclusion: entries of the log, each proven to be in the tree a signed checkpoint commits to.

    {
      "format": "ent-incidents-proof",
      "version": 1,
      "kind": "inclusion",
      "checkpoint": "<the signed note, text as signed, signature lines included>",
      "entries": [
        {
          "index": 41,                  // the leaf's position, from 0 (the timeline entry n° 42)
          "canonical": "{...}",         // the entry's canonical text; its leaf is SHA-256(0x00 || UTF-8 text)
          "leaf_hash": "<64 hex>",      // the leaf hash; required without "canonical", must agree with it
          "inclusion_path": ["<64 hex>", ...]  // RFC 9162 audit path, from the leaf's sibling up
        }
      ]
    }

Consistency: the newer signed checkpoint extends the older one (no entry removed, altered or inserted before it).

    {
      "format": "ent-incidents-proof",
      "version": 1,
      "kind": "consistency",
      "old_checkpoint": "<signed note>",    // the verifier prefers the copy the auditor holds (--checkpoint)
      "new_checkpoint": "<signed note>",
      "consistency_path": ["<64 hex>", ...]  // RFC 9162 consistency proof
    }

Hashes are lowercase hex, as the timeline's chain hashes are. Other keys are allowed and ignored: nothing outside
the fields above is verified. The log builds these files with `inclusion_document` and `consistency_document`;
`verify_document` checks one and reports, in French, what was verified.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from proof.checkpoint import Checkpoint, open_checkpoint, read_checkpoint
from proof.errors import InvalidProof, MalformedProofFile
from proof.keys import VerifierKey
from proof.merkle import (
    RangeHasher,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

FORMAT = "ent-incidents-proof"
VERSION = 1
PARIS = ZoneInfo("Europe/Paris")
_HEX_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ProofEntry:
    """One entry to prove: its leaf index and its canonical text (or, failing that, its leaf hash)."""

    index: int
    canonical: str | None = None
    leaf_hash: bytes | None = None


@dataclass
class Report:
    """What a verification established, line by line in French; `ok` only if every check held."""

    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        self.ok = False
        self.lines.append(line)


# --- Building (the log's side) -------------------------------------------------------------------------------------


def inclusion_document(checkpoint_note: str, tree: RangeHasher | Sequence[bytes],
                       entries: Iterable[ProofEntry]) -> dict[str, Any]:
    """The inclusion proof file of these entries against this signed checkpoint, their paths taken from `tree`
    (whose first leaves must be the checkpoint's: a proof that would fail is refused here, not handed out)."""
    checkpoint = read_checkpoint(checkpoint_note)
    _check_tree_matches(tree, checkpoint)
    written = []
    for entry in entries:
        leaf = leaf_hash(entry.canonical.encode("utf-8")) if entry.canonical is not None else entry.leaf_hash
        if leaf is None:
            raise InvalidProof(f"entrée d'indice {entry.index} sans texte canonique ni empreinte de feuille")
        if entry.leaf_hash is not None and entry.leaf_hash != leaf:
            raise InvalidProof(f"entrée d'indice {entry.index} : l'empreinte donnée n'est pas celle du texte")
        path = inclusion_proof(tree, entry.index, checkpoint.size)
        verify_inclusion(entry.index, checkpoint.size, leaf, path, checkpoint.root)
        item: dict[str, Any] = {"index": entry.index}
        if entry.canonical is not None:
            item["canonical"] = entry.canonical
        item["leaf_hash"] = leaf.hex()
        item["inclusion_path"] = [value.hex() for value in path]
        written.append(item)
    return {"format": FORMAT, "version": VERSION, "kind": "inclusion", "checkpoint": checkpoint_note,
            "entries": written}


def consistency_document(old_checkpoint_note: str, new_checkpoint_note: str,
                         tree: RangeHasher | Sequence[bytes]) -> dict[str, Any]:
    """The consistency proof file from an older signed checkpoint to a newer one, its path taken from `tree`."""
    old, new = read_checkpoint(old_checkpoint_note), read_checkpoint(new_checkpoint_note)
    _check_tree_matches(tree, old)
    _check_tree_matches(tree, new)
    path = consistency_proof(tree, old.size, new.size)
    verify_consistency(old.size, new.size, old.root, new.root, path)
    return {"format": FORMAT, "version": VERSION, "kind": "consistency", "old_checkpoint": old_checkpoint_note,
            "new_checkpoint": new_checkpoint_note, "consistency_path": [value.hex() for value in path]}


def dump_document(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _check_tree_matches(tree: RangeHasher | Sequence[bytes], checkpoint: Checkpoint) -> None:
    if checkpoint.size == 0:
        return
    # With a MerkleTree, the root at this size is a few cached subtrees folded: O(log n) hashes.
    if isinstance(tree, Sequence):  # a plain list: hash its first leaves
        actual = root(tree[:checkpoint.size]) if len(tree) >= checkpoint.size else None
    else:
        actual = tree.range_hash(0, checkpoint.size)
    if actual != checkpoint.root:
        raise InvalidProof(f"les {checkpoint.size} premières entrées de la chronologie ne donnent plus la racine que "
                           "le point de contrôle signe : elles ont été modifiées, insérées ou supprimées depuis")


# --- Verifying (the auditor's side) --------------------------------------------------------------------------------


def load_document(text: str) -> dict[str, Any]:
    """A proof file's JSON, its header checked (format, version, kind)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedProofFile(f"fichier de preuve illisible : JSON invalide (ligne {error.lineno})") from error
    _check_header(document)
    return document


def _check_header(document: Any) -> None:
    if not isinstance(document, dict):
        raise MalformedProofFile("fichier de preuve illisible : un objet JSON est attendu")
    if document.get("format") != FORMAT:
        raise MalformedProofFile(f"fichier de preuve illisible : champ « format » différent de « {FORMAT} »")
    if document.get("version") != VERSION:
        raise MalformedProofFile(f"fichier de preuve de version « {document.get('version')} » : seule la version "
                                 f"{VERSION} est connue")
    if document.get("kind") not in ("inclusion", "consistency"):
        raise MalformedProofFile("fichier de preuve illisible : champ « kind » attendu, « inclusion » ou "
                                 "« consistency »")


def verify_document(document: dict[str, Any], key: VerifierKey, held_checkpoint: str | None = None) -> Report:
    """Check a proof file with the public key alone. A checkpoint that is malformed, signed with another key or
    altered, or a file that is not the format, raises (ProofError); a proof that fails is reported in `Report`."""
    _check_header(document)
    if document["kind"] == "inclusion":
        report = _verify_inclusion_document(document, key)
        if held_checkpoint is not None:
            held = open_checkpoint(held_checkpoint, key)
            proved = open_checkpoint(_text(document, "checkpoint"), key)
            if held.size == proved.size and held.root != proved.root:
                report.fail(f"Le point de contrôle conservé (--checkpoint) contredit celui de la preuve : même "
                            f"taille ({_number(held.size)} entrées), racines différentes. Le journal a été réécrit.")
            elif held.size != proved.size:
                # An inclusion proof says nothing of another checkpoint: accepting one here would let a proof of
                # forged history pass beside a genuine checkpoint.
                report.fail("Le point de contrôle conservé (--checkpoint) ne se vérifie pas avec une preuve "
                            "d'inclusion contre un autre point de contrôle : demandez la preuve de cohérence "
                            "(« incidents consistency --since »).")
            else:
                report.lines.insert(-1, "Le point de contrôle de la preuve est celui que vous avez conservé.")
        if not report.ok and not report.lines[-1].startswith("Résultat : ÉCHEC"):
            report.lines.append("Résultat : ÉCHEC.")
        return report
    return _verify_consistency_document(document, key, held_checkpoint)


def describe_checkpoint(checkpoint: Checkpoint) -> str:
    taken = ""
    if checkpoint.taken_at is not None:
        local = checkpoint.taken_at.astimezone(PARIS)
        taken = f", pris le {local:%d/%m/%Y} à {local:%H:%M:%S} (heure de Paris)"
    return (f"journal « {checkpoint.origin} », {_number(checkpoint.size)} entrées, racine "
            f"{checkpoint.root.hex()}{taken}")


def _verify_inclusion_document(document: dict[str, Any], key: VerifierKey) -> Report:
    checkpoint = open_checkpoint(_text(document, "checkpoint"), key)
    report = Report(lines=[f"Point de contrôle signé par la clé attendue : {describe_checkpoint(checkpoint)}."])
    entries = document.get("entries")
    if not isinstance(entries, list) or not entries:
        raise MalformedProofFile("fichier de preuve illisible : liste « entries » absente ou vide")
    failed, seen = 0, set[int]()
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise MalformedProofFile(f"fichier de preuve illisible : entrée n° {position} de la liste mal formée")
        index = entry.get("index")
        if type(index) is not int:
            raise MalformedProofFile(f"fichier de preuve illisible : entrée n° {position} de la liste sans "
                                     "« index » entier")
        name = f"Entrée n° {_number(index + 1)} du journal (indice {index})"
        if index in seen:  # proved once already: counted twice, it would pass one entry off as two
            raise MalformedProofFile(f"fichier de preuve illisible : entrée n° {position} de la liste en double "
                                     f"(indice {index} déjà prouvé)")
        seen.add(index)
        try:
            leaf = _entry_leaf(entry, position)
            path = _hashes(entry.get("inclusion_path"), f"« inclusion_path » de l'entrée n° {position} de la liste")
            verify_inclusion(index, checkpoint.size, leaf, path, checkpoint.root)
        except InvalidProof as error:
            failed += 1
            report.fail(f"{name} : NON PROUVÉE — {error}.")
            continue
        report.lines.append(f"{name} : incluse (chemin de {len(path)} empreintes).")
    total = len(entries)
    if failed == 1:
        report.lines.append(f"Résultat : ÉCHEC — 1 entrée sur {_number(total)} n'est pas prouvée.")
    elif failed:
        report.lines.append(f"Résultat : ÉCHEC — {_number(failed)} entrées sur {_number(total)} ne sont pas "
                            "prouvées.")
    elif total == 1:
        report.lines.append("Résultat : l'entrée est dans le journal signé.")
    else:
        report.lines.append(f"Résultat : les {_number(total)} entrées sont dans le journal signé.")
    return report


def _verify_consistency_document(document: dict[str, Any], key: VerifierKey, held: str | None) -> Report:
    new = open_checkpoint(_text(document, "new_checkpoint"), key)
    old = open_checkpoint(held if held is not None else _text(document, "old_checkpoint"), key)
    source = "détenu par l'auditeur" if held is not None else \
        "lu dans le fichier (à comparer avec celui que vous avez reçu)"
    report = Report(lines=[f"Ancien point de contrôle, {source} : {describe_checkpoint(old)}.",
                           f"Nouveau point de contrôle : {describe_checkpoint(new)}.",
                           "Les deux sont signés par la clé attendue."])
    path = _hashes(document.get("consistency_path"), "« consistency_path »")
    try:
        if old.origin != new.origin:
            raise InvalidProof(f"journaux différents (« {old.origin} » et « {new.origin} »)")
        verify_consistency(old.size, new.size, old.root, new.root, path)
    except InvalidProof as error:
        report.fail(f"Résultat : ÉCHEC — le nouveau journal ne prolonge pas l'ancien : {error}.")
        return report
    report.lines.append(f"Résultat : le journal de {_number(new.size)} entrées prolonge celui de "
                        f"{_number(old.size)} entrées sans rien en retirer ni modifier "
                        f"(preuve de {len(path)} empreintes).")
    return report


def _entry_leaf(entry: dict[str, Any], position: int) -> bytes:
    canonical, given = entry.get("canonical"), entry.get("leaf_hash")
    if canonical is not None and not isinstance(canonical, str):
        raise MalformedProofFile(f"fichier de preuve illisible : « canonical » de l'entrée n° {position} de la "
                                 "liste n'est pas un texte")
    given_hash = None if given is None else _hashes([given], f"« leaf_hash » de l'entrée n° {position} de la liste")[0]
    if canonical is None:
        if given_hash is None:
            raise MalformedProofFile(f"fichier de preuve illisible : entrée n° {position} de la liste sans "
                                     "« canonical » ni « leaf_hash »")
        return given_hash
    try:
        text = canonical.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON's \\uXXXX escapes can carry
        raise MalformedProofFile(f"fichier de preuve illisible : « canonical » de l'entrée n° {position} de la "
                                 "liste n'est pas un texte Unicode valide") from None
    leaf = leaf_hash(text)
    if given_hash is not None and given_hash != leaf:
        raise InvalidProof("le texte canonique ne donne pas l'empreinte de feuille annoncée : il a été modifié")
    return leaf


def _hashes(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise MalformedProofFile(f"fichier de preuve illisible : {what} doit être une liste d'empreintes")
    for value in values:
        if not isinstance(value, str) or not _HEX_HASH.fullmatch(value):
            raise MalformedProofFile(f"fichier de preuve illisible : {what} contient « {str(value)[:80]} », qui "
                                     "n'est pas une empreinte SHA-256 en hexadécimal (64 chiffres minuscules)")
    return [bytes.fromhex(value) for value in values]


def _text(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise MalformedProofFile(f"fichier de preuve illisible : champ « {name} » absent")
    return value


def _number(value: int) -> str:
    """A count as French readers write it: 1 000 000 (narrow no-break spaces)."""
    return f"{value:,}".replace(",", "\u202f")

