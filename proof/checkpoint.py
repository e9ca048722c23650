"""Checkpoints (c2sp.org/tlog-checkpoint): the log's origin, its size and its root hash, signed as a note.

    ac-nancy-metz.fr/incidents
    1000000
    <base64 of the 32-byte root>
    time 2026-11-20T09:00:00Z

    — ac-nancy-metz.fr/incidents <base64(key id || Ed25519 signature)>

The fourth line is this project's one extension line: the UTC instant the checkpoint was taken, to the second.
It is signed with the rest, so the operator cannot date a checkpoint afresh; the specification allows extension
lines, and ecosystem tools that ignore them still verify the tree head. The log's key name is its origin.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from proof.errors import MalformedCheckpoint, SigningKeyError, UnknownKey
from proof.keys import SigningKey, VerifierKey, check_key_name
from proof.merkle import EMPTY_ROOT, HASH_SIZE
from proof.note import open_note, parse_note, sign_note

TIME_PREFIX = "time "
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the first `size` leaves of the log `origin` hash to `root`; taken at `taken_at` (UTC)."""

    origin: str
    size: int
    root: bytes
    taken_at: datetime | None = None

    def __post_init__(self) -> None:
        try:
            check_key_name(self.origin)
        except SigningKeyError as error:
            raise MalformedCheckpoint(f"point de contrôle mal formé : {error}") from error
        if not 0 <= self.size < 2**64:
            raise MalformedCheckpoint(f"point de contrôle mal formé : taille {self.size} impossible")
        if len(self.root) != HASH_SIZE:
            raise MalformedCheckpoint(f"point de contrôle mal formé : racine de {len(self.root)} octets au lieu "
                                      f"de {HASH_SIZE}")
        if self.size == 0 and self.root != EMPTY_ROOT:
            raise MalformedCheckpoint("point de contrôle mal formé : un arbre vide n'a pas cette racine")
        if self.taken_at is not None:
            if self.taken_at.tzinfo is None:
                raise MalformedCheckpoint("point de contrôle mal formé : instant sans fuseau horaire")
            # Whole seconds in UTC: the instant is written to the second, and must read back equal.
            object.__setattr__(self, "taken_at", self.taken_at.astimezone(UTC).replace(microsecond=0))

    def body(self) -> str:
        """The note text that is signed: origin, size, base64 root, and the instant when known."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        if self.taken_at is not None:
            lines.append(TIME_PREFIX + self.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        return "\n".join(lines) + "\n"


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey) -> str:
    """The checkpoint as a signed note, signed by the log's key (whose name must be the checkpoint's origin)."""
    if key.name != checkpoint.origin:
        raise SigningKeyError(f"la clé « {key.name} » n'est pas celle du journal « {checkpoint.origin} »")
    return sign_note(checkpoint.body(), key)


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint this note holds, once its signature by `key` verifies. Refused, with the reason in French:
    a malformed note or body (MalformedCheckpoint), a note signed by another key (UnknownKey), a body altered
    after signing (BadSignature)."""
    opened = open_note(note, key)
    checkpoint = parse_checkpoint_body(opened.text)
    if key.name is None:
        # A bare key trusts the name of the signature line it verified; the log is still the one of that name.
        names = {signature.name for signature in opened.signatures if key.matches(signature.name, signature.key_id)}
        if checkpoint.origin not in names:
            raise UnknownKey(f"point de contrôle du journal « {checkpoint.origin} » signé sous un autre nom "
                             f"({', '.join(sorted(names))})")
    elif checkpoint.origin != key.name:
        raise UnknownKey(f"point de contrôle du journal « {checkpoint.origin} », la clé est celle de « {key.name} »")
    return checkpoint


def read_checkpoint(note: str) -> Checkpoint:
    """The checkpoint a note holds, its signature NOT verified: for the log itself, building proofs against a
    checkpoint it signed. An auditor uses `open_checkpoint`."""
    return parse_checkpoint_body(parse_note(note).text)


def parse_checkpoint_body(text: str) -> Checkpoint:
    """The checkpoint a note text describes, every line checked."""
    lines = text.split("\n")
    if lines[-1] != "" or not 4 <= len(lines) <= 5:
        raise MalformedCheckpoint("point de contrôle mal formé : trois lignes attendues (journal, taille, racine), "
                                  "et une ligne d'horodatage facultative")
    origin, size_text, root_text, *extension = lines[:-1]
    if not _SIZE.fullmatch(size_text):
        raise MalformedCheckpoint(f"point de contrôle mal formé : la taille « {size_text} » n'est pas un nombre "
                                  "entier écrit sans zéro initial")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedCheckpoint(f"point de contrôle mal formé : racine « {root_text} » en base64 invalide") \
            from error
    if len(root) != HASH_SIZE or base64.b64encode(root).decode() != root_text:
        raise MalformedCheckpoint(f"point de contrôle mal formé : la racine « {root_text} » n'est pas une "
                                  "empreinte SHA-256 en base64")
    taken_at = None
    if extension:
        [line] = extension
        instant = line[len(TIME_PREFIX):] if line.startswith(TIME_PREFIX) else ""
        if not _TIME.fullmatch(instant):
            raise MalformedCheckpoint(f"point de contrôle mal formé : ligne « {line} » inconnue (horodatage "
                                      "« time AAAA-MM-JJTHH:MM:SSZ » attendu)")
        try:
            taken_at = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError as error:
            raise MalformedCheckpoint(f"point de contrôle mal formé : instant « {instant} » impossible") from error
    return Checkpoint(origin, int(size_text), root, taken_at)
