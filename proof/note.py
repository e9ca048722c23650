"""Signed notes (c2sp.org/signed-note): a text ending in a newline, a blank line, then one line per signature,
`— <key name> <base64(4-byte key id || Ed25519 signature over the text)>`.

Byte for byte the format of golang.org/x/mod/sumdb/note, so that any tool of the transparency-log ecosystem reads
our checkpoints. Parsing is strict: a note that is not exactly well formed is refused as a whole, since nothing in
it may be trusted before its signature is checked.
"""

import base64
import binascii
from dataclasses import dataclass

from proof.errors import BadSignature, MalformedCheckpoint, SigningKeyError, UnknownKey
from proof.keys import SigningKey, VerifierKey, check_key_name

SIGNATURE_PREFIX = "— "  # em dash (U+2014), space
MAX_SIGNATURES = 100  # the limit of the Go reference; the specification asks verifiers to accept at least 16


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def label(self) -> str:
        return f"{self.name}+{self.key_id.hex()}"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]


def sign_note(text: str, key: SigningKey) -> str:
    """The signed note of `text` (which must end with a newline and hold no control character but newlines)."""
    _check_text(text)
    line = base64.b64encode(key.key_id + key.sign(text.encode("utf-8"))).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{key.name} {line}\n"


def parse_note(message: str) -> Note:
    """The text and the signature lines of a note, checked for form only (no signature verified)."""
    if not message.endswith("\n"):
        raise MalformedCheckpoint("note signée mal formée : elle doit finir par un saut de ligne")
    _check_characters(message)
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedCheckpoint("note signée mal formée : pas de ligne vide avant les signatures")
    # The text ends at the last blank line (it may hold blank lines itself); each signature line ends with "\n".
    text, lines = message[:split + 1], message[split + 2:].split("\n")[:-1]
    _check_text(text)
    if not lines:
        raise MalformedCheckpoint("note signée mal formée : aucune signature")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedCheckpoint(f"note signée mal formée : plus de {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_signature(line, number) for number, line in enumerate(lines, start=1)))


def open_note(message: str, key: VerifierKey) -> Note:
    """The note, once a signature of `key` verifies over its text. Signatures of other keys are ignored (a
    witness may cosign); a signature that claims to be from `key` and does not verify refuses the whole note."""
    note = parse_note(message)
    signed = [signature for signature in note.signatures if key.matches(signature.name, signature.key_id)]
    if not signed:
        found = ", ".join(f"« {signature.label()} »" for signature in note.signatures)
        raise UnknownKey(f"signé par une autre clé : {found} ; clé attendue « {key.describe()} »")
    for signature in signed:
        if not key.verifies(signature.signature, note.text.encode("utf-8")):
            raise BadSignature(f"la signature de la clé « {signature.label()} » ne correspond pas au texte signé : "
                               "le texte a été modifié après sa signature")
    return note


def _check_text(text: str) -> None:
    if not text.endswith("\n") or text == "\n":
        raise MalformedCheckpoint("note signée mal formée : texte vide ou sans saut de ligne final")
    _check_characters(text)


def _check_characters(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, e.g. from a JSON "\\ud800" escape
        raise MalformedCheckpoint("note signée mal formée : texte UTF-8 invalide") from error
    for character in text:
        if ord(character) < 0x20 and character != "\n":
            raise MalformedCheckpoint(f"note signée mal formée : caractère de contrôle U+{ord(character):04X} "
                                      "interdit")


def _signature(line: str, number: int) -> NoteSignature:
    problem = f"note signée mal formée : ligne de signature n° {number}"
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedCheckpoint(f"{problem} sans tiret cadratin « — » en tête")
    name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
    try:
        check_key_name(name)
    except SigningKeyError as error:
        raise MalformedCheckpoint(f"{problem} : {error}") from error
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedCheckpoint(f"{problem} : base64 invalide") from error
    if len(blob) <= 4 or base64.b64encode(blob).decode() != encoded:
        raise MalformedCheckpoint(f"{problem} : signature trop courte ou base64 non canonique")
    return NoteSignature(name, blob[:4], blob[4:])
