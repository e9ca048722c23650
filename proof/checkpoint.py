"""Checkpoints (c2sp.org/tlog-checkpoint): the log's origin, its size and its root hash, signed as a note.

    ac-nancy-metz.fr/incidents
    1000000
    <base64 of the 32-byte root>
    time 2026-11-20T09:00:00Z
    chain 5f1c…(64 hex digits)

    — ac-nancy-metz.fr/incidents <base64(key id || Ed25519 signature)>

The lines after the root are this project's extension lines, each optional, in this order: the UTC instant the
checkpoint was taken, to the second, so that the operator cannot date a checkpoint afresh; and the chain hash of
the last entry it covers, so that the log itself can tell, cheaply, before signing again, whether the entries it
signed were rewritten since (models.checkpoints). Both are signed with the rest; the specification allows
extension lines, and ecosystem tools that ignore them still verify the tree head. The log's key name is its origin.
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
CHAIN_PREFIX = "chain "
_CHAIN = re.compile(r"[0-9a-f]{64}")
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the first `size` leaves of the log `origin` hash to `root`; taken at `taken_at` (UTC)."""

    origin: str
    size: int
    root: bytes
    taken_at: datetime | None = None
    chain: str | None = None  # the chain hash (hex) of the last entry covered

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
        if self.chain is not None and not _CHAIN.fullmatch(self.chain):
            raise MalformedCheckpoint("point de contrôle mal formé : empreinte de chaîne « "
                                      f"{self.chain[:80]} » (64 chiffres hexadécimaux attendus)")

    def body(self) -> str:
        """The note text that is signed: origin, size, base64 root, and the instant when known."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        if self.taken_at is not None:
            lines.append(TIME_PREFIX + self.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if self.chain is not None:
            lines.append(CHAIN_PREFIX + self.chain)
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
    if lines[-1] != "" or not 4 <= len(lines) <= 6:
        raise MalformedCheckpoint("point de contrôle mal formé : trois lignes attendues (journal, taille, racine), "
                                  "puis les lignes d'horodatage et d'empreinte de chaîne, facultatives")
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
    taken_at = chain = None
    if extension and extension[0].startswith(TIME_PREFIX):
        taken_at = _instant(extension.pop(0))
    if extension and extension[0].startswith(CHAIN_PREFIX):
        chain = extension.pop(0)[len(CHAIN_PREFIX):]
        if not _CHAIN.fullmatch(chain):
            raise MalformedCheckpoint(f"point de contrôle mal formé : empreinte de chaîne « {chain[:80]} » "
                                      "(64 chiffres hexadécimaux attendus)")
    if extension:
        raise MalformedCheckpoint(f"point de contrôle mal formé : ligne « {extension[0][:80]} » inconnue "
                                  "(horodatage « time AAAA-MM-JJTHH:MM:SSZ », puis empreinte « chain … » attendus)")
    return Checkpoint(origin, int(size_text), root, taken_at, chain)


def _instant(line: str) -> datetime:
    instant = line[len(TIME_PREFIX):]
    if not _TIME.fullmatch(instant):
        raise MalformedCheckpoint(f"point de contrôle mal formé : ligne « {line[:80]} » inconnue (horodatage "
                                  "« time AAAA-MM-JJTHH:MM:SSZ » attendu)")
    try:
        return datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise MalformedCheckpoint(f"point de contrôle mal formé : instant « {instant} » impossible") from error
