"""The Ed25519 key that signs checkpoints: its private half outside the database (a file or an environment
setting, or a file generated on first use), its public half in the printable form the parties keep.

The printable public key is the verifier key of the signed-note ecosystem (golang.org/x/mod/sumdb/note, C2SP):
`<name>+<key id in hex>+<base64(0x01 || public key)>`, e.g. `ac-nancy-metz.fr/incidents+1a2b3c4d+AT…`. The key id is
SHA-256(name || 0x0A || 0x01 || public key)[:4] (c2sp.org/signed-note), so the same text names the log, the
algorithm and the key, and any note tool can check our checkpoints with it.
"""

import base64
import binascii
import hashlib
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proof.errors import SigningKeyError

ED25519 = 0x01  # the signature type byte of c2sp.org/signed-note
KEY_SETTING = "INCIDENTS_CHECKPOINT_KEY"  # the private key itself: PEM (PKCS #8) or the 32-byte seed in base64
KEY_FILE_SETTING = "INCIDENTS_CHECKPOINT_KEY_FILE"  # a file holding it
KEY_FILE_NAME = "checkpoint-key.pem"  # generated under the given folder when neither setting is set


def check_key_name(name: str) -> str:
    """A key name (and a log origin) as c2sp.org/signed-note allows it: non-empty, no space, no '+'."""
    if not name or "+" in name or any(character.isspace() or ord(character) < 0x20 for character in name):
        raise SigningKeyError(f"nom de journal « {name} » invalide : il faut un nom non vide, sans espace ni « + » "
                              "(par exemple ac-nancy-metz.fr/incidents)")
    return name


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of c2sp.org/signed-note for an Ed25519 key under this name."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A public key the verifier trusts. Without a name (a bare PEM or base64 key), it is taken under the name
    a signature line gives, the key id then binding that name to the key."""

    public_key: bytes
    name: str | None = None

    def __post_init__(self) -> None:
        if len(self.public_key) != 32:
            raise SigningKeyError(f"clé publique Ed25519 de {len(self.public_key)} octets au lieu de 32")
        if self.name is not None:
            check_key_name(self.name)

    def matches(self, name: str, signature_key_id: bytes) -> bool:
        """Whether a signature line under this name and key id claims to be from this key."""
        return (self.name is None or self.name == name) and key_id(name, self.public_key) == signature_key_id

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def describe(self) -> str:
        """How the key is named in messages: its printable text, or its bare key when it has no name."""
        if self.name is None:
            return "clé " + base64.b64encode(self.public_key).decode()
        return verifier_key_text(self.name, self.public_key)


@dataclass(frozen=True)
class SigningKey:
    """The log's private key under the log's name (its origin)."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def verifier(self) -> VerifierKey:
        return VerifierKey(self.public_key, self.name)

    def public_text(self) -> str:
        """The printable public key for the parties to keep: `<name>+<key id>+<base64(0x01 || key)>`."""
        return verifier_key_text(self.name, self.public_key)


def verifier_key_text(name: str, public_key: bytes) -> str:
    return f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(bytes([ED25519]) + public_key).decode()}"


def parse_verifier_key(text: str) -> VerifierKey:
    """A public key as a party keeps it: the printable text `<name>+<key id>+<base64>`, a PEM public key, or the
    32 raw bytes in base64. The printable text is checked whole: a key id that does not match is refused."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            loaded = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as error:
            raise SigningKeyError("clé publique PEM illisible") from error
        if not isinstance(loaded, Ed25519PublicKey):
            raise SigningKeyError("la clé publique PEM n'est pas une clé Ed25519")
        return VerifierKey(loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    if len(text) == 44:  # 32 bytes in base64; the printable text, with its name and key id, is always longer
        return VerifierKey(_base64(text, "clé publique"))
    parts = text.split("+", 2)  # the base64 part may itself hold '+': split off the name and key id only
    if len(parts) != 3:
        raise SigningKeyError("clé publique attendue : texte « nom+identifiant+clé », PEM, ou 32 octets en base64")
    name, hex_id, encoded = parts
    check_key_name(name)
    material = _base64(encoded, "clé publique")
    if len(material) != 33 or material[0] != ED25519:
        raise SigningKeyError(f"clé publique « {text} » : type de signature ou longueur inattendus (Ed25519 attendu)")
    key = VerifierKey(material[1:], name)
    if hex_id != key_id(name, key.public_key).hex():
        raise SigningKeyError(f"clé publique « {text} » : l'identifiant {hex_id} ne correspond pas à la clé")
    return key


def parse_signing_key(text: str, name: str) -> SigningKey:
    """A private key given as PEM (PKCS #8, unencrypted) or as its 32-byte seed in base64."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            loaded = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError) as error:
            raise SigningKeyError("clé privée PEM illisible (ou protégée par un mot de passe)") from error
        if not isinstance(loaded, Ed25519PrivateKey):
            raise SigningKeyError("la clé privée PEM n'est pas une clé Ed25519")
        return SigningKey(name, loaded)
    seed = _base64(text, "clé privée")
    if len(seed) != 32:
        raise SigningKeyError("clé privée Ed25519 attendue : PEM (PKCS #8) ou 32 octets en base64")
    return SigningKey(name, Ed25519PrivateKey.from_private_bytes(seed))


def private_key_pem(key: SigningKey) -> bytes:
    return key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())


@dataclass(frozen=True)
class LoadedKey:
    key: SigningKey
    source: str  # where it came from, in French, for the operator
    created: bool  # generated just now: its public half is to be handed to the parties
    warnings: tuple[str, ...] = ()


def load_signing_key(name: str, folder: Path, environ: Mapping[str, str] | None = None,
                     create: bool = True) -> LoadedKey:
    """The log's signing key: from INCIDENTS_CHECKPOINT_KEY (the key itself), else from the file that
    INCIDENTS_CHECKPOINT_KEY_FILE names, else from `folder`/checkpoint-key.pem, created there (mode 0600) on
    first use. The folder is the embedded state folder (var/), never the database: whoever can rewrite the
    store must not thereby hold the key."""
    environ = os.environ if environ is None else environ
    inline, named_file = environ.get(KEY_SETTING, "").strip(), environ.get(KEY_FILE_SETTING, "").strip()
    if inline and named_file:
        raise SigningKeyError(f"réglages « {KEY_SETTING} » et « {KEY_FILE_SETTING} » tous deux donnés : "
                              "n'en garder qu'un")
    if inline:
        try:
            return LoadedKey(parse_signing_key(inline, name), f"réglage {KEY_SETTING}", False)
        except SigningKeyError as error:
            raise SigningKeyError(f"réglage « {KEY_SETTING} » : {error}") from error
    path = Path(named_file) if named_file else folder / KEY_FILE_NAME
    source = f"fichier {path}" + (f" (réglage {KEY_FILE_SETTING})" if named_file else "")
    if not named_file and not path.exists():
        if not create:  # a check never makes a key: it would then refuse every genuine checkpoint
            raise SigningKeyError("aucune clé du journal sur ce serveur : donnez la clé publique (--public-key)")
        created = _create_key_file(path, name)
        if created is not None:
            return LoadedKey(created, source, True)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as error:
        raise SigningKeyError(f"{source} introuvable") from error
    except PermissionError as error:
        raise SigningKeyError(f"{source} illisible : accès refusé") from error
    except (OSError, UnicodeDecodeError) as error:
        raise SigningKeyError(f"{source} illisible") from error
    try:
        key = parse_signing_key(text, name)
    except SigningKeyError as error:
        raise SigningKeyError(f"{source} : {error}") from error
    return LoadedKey(key, source, False, _permission_warnings(path))


def _create_key_file(path: Path, name: str) -> SigningKey | None:
    """Write a new key, readable by its owner only. It is written whole under a temporary name, then linked to
    its name, which fails if the name exists: two processes starting together agree on one key, and none ever
    reads a half-written file. None when another process won: the caller reads that one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SigningKey(name, Ed25519PrivateKey.generate())
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(private_key_pem(key))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return None
    except OSError as error:
        raise SigningKeyError(f"impossible de créer la clé de signature {path} ({error.strerror})") from error
    finally:
        draft.unlink(missing_ok=True)
    return key


def _permission_warnings(path: Path) -> tuple[str, ...]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return (f"la clé de signature {path} est lisible par d'autres comptes que le sien "
                f"(droits {mode:04o}, 0600 attendu)",)
    return ()


def _base64(text: str, what: str) -> bytes:
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SigningKeyError(f"{what} : base64 invalide") from error
    if base64.b64encode(decoded).decode() != text:
        raise SigningKeyError(f"{what} : base64 non canonique")
    return decoded
