"""A checkpoint is the C2SP tlog-checkpoint text signed with the log's Ed25519 key; one signed with another key,
altered after signing, or malformed is refused with a French message naming what is wrong."""

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proof.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint_body, read_checkpoint, sign_checkpoint
from proof.errors import BadSignature, MalformedCheckpoint, SigningKeyError, UnknownKey
from proof.keys import SigningKey, VerifierKey, parse_verifier_key
from proof.merkle import EMPTY_ROOT, leaf_hash, root

ORIGIN = "ac-nancy-metz.fr/incidents"
# A fixed key, so that the signed text below is exact (Ed25519 signatures are deterministic).
KEY = SigningKey(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
ROOT = root([leaf_hash(f"entrée {i}".encode()) for i in range(1000)])
TAKEN = datetime(2026, 11, 20, 9, 0, 5, 123456, tzinfo=UTC)


@pytest.fixture
def store() -> None:
    """Pure functions: no register to create (replaces the suite's per-test store)."""


def signed(size: int = 1000, root_hash: bytes = ROOT, taken_at: datetime | None = TAKEN) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, root_hash, taken_at), KEY)


def test_the_checkpoint_body_is_the_c2sp_text_with_its_instant():
    note = signed()
    body, signature_line = note.split("\n\n")
    assert body + "\n" == (f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\ntime 2026-11-20T09:00:05Z\n")
    assert signature_line.startswith(f"— {ORIGIN} ") and signature_line.endswith("\n")
    blob = base64.b64decode(signature_line.split(" ")[2])
    assert blob[:4] == KEY.key_id and len(blob) == 4 + 64


def test_a_checkpoint_opens_with_the_log_public_key():
    checkpoint = open_checkpoint(signed(), parse_verifier_key(KEY.public_text()))
    assert checkpoint == Checkpoint(ORIGIN, 1000, ROOT, datetime(2026, 11, 20, 9, 0, 5, tzinfo=UTC))
    assert read_checkpoint(signed()) == checkpoint


def test_the_instant_is_kept_in_utc_to_the_second():
    paris = timezone(timedelta(hours=1))
    checkpoint = Checkpoint(ORIGIN, 1, leaf_hash(b"x"), datetime(2026, 11, 20, 10, 0, 5, 999, tzinfo=paris))
    assert checkpoint.taken_at == datetime(2026, 11, 20, 9, 0, 5, tzinfo=UTC)
    assert checkpoint.body().endswith("time 2026-11-20T09:00:05Z\n")
    assert Checkpoint(ORIGIN, 1, leaf_hash(b"x")).body().count("\n") == 3  # no instant, no fourth line


def test_a_checkpoint_signed_with_another_key_is_refused():
    other = SigningKey(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))))
    forged = sign_checkpoint(Checkpoint(ORIGIN, 1000, ROOT, TAKEN), other)
    with pytest.raises(UnknownKey) as refused:
        open_checkpoint(forged, KEY.verifier())
    assert str(refused.value) == (f"signé par une autre clé : « {ORIGIN}+{other.key_id.hex()} » ; "
                                  f"clé attendue « {KEY.public_text()} »")


def test_a_checkpoint_of_another_log_under_a_bare_key_is_refused():
    other_log = SigningKey("ac-strasbourg.fr/incidents", KEY.private_key)
    note = sign_checkpoint(Checkpoint("ac-strasbourg.fr/incidents", 1, leaf_hash(b"x")), other_log)
    with pytest.raises(UnknownKey, match="signé par une autre clé"):
        open_checkpoint(note, KEY.verifier())
    # A bare key (no name) accepts the note under the name it was signed with: that log's checkpoint.
    assert open_checkpoint(note, VerifierKey(KEY.public_key)).origin == "ac-strasbourg.fr/incidents"


@pytest.mark.parametrize(("before", "after"), [
    ("\n1000\n", "\n999\n"),  # the operator shows a smaller log
    ("time 2026-11-20T09:00:05Z", "time 2026-11-19T09:00:05Z"),  # or dates it earlier
    (base64.b64encode(ROOT).decode(), base64.b64encode(EMPTY_ROOT).decode()),  # or another root
])
def test_a_checkpoint_altered_after_signing_is_refused(before, after):
    altered = signed().replace(before, after, 1)
    assert altered != signed()
    with pytest.raises(BadSignature, match="le texte a été modifié après sa signature"):
        open_checkpoint(altered, KEY.verifier())


@pytest.mark.parametrize(("body", "reason"), [
    (f"{ORIGIN}\n1000\n", "trois lignes attendues (journal, taille, racine)"),
    (f"{ORIGIN}\n01000\n{base64.b64encode(ROOT).decode()}\n", "la taille « 01000 » n'est pas un nombre entier"),
    (f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n", "la taille « -1 » n'est pas un nombre entier"),
    (f"{ORIGIN}\n١٠\n{base64.b64encode(ROOT).decode()}\n", "la taille « ١٠ » n'est pas un nombre entier"),
    (f"{ORIGIN}\n1000\n{ROOT.hex()}\n", "n'est pas une empreinte SHA-256 en base64"),
    (f"{ORIGIN}\n1000\n{base64.b64encode(ROOT[:31]).decode()}\n", "n'est pas une empreinte SHA-256 en base64"),
    (f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\nwitness x\n", "ligne « witness x » inconnue"),
    (f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\ntime 2026-02-30T09:00:00Z\n",
     "instant « 2026-02-30T09:00:00Z » impossible"),
    (f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\ntime 2026-11-20 09:00:00\n", "ligne « time 2026-11-20"),
    (f"mon journal\n1000\n{base64.b64encode(ROOT).decode()}\n", "nom de journal « mon journal » invalide"),
    (f"{ORIGIN}\n0\n{base64.b64encode(ROOT).decode()}\n", "un arbre vide n'a pas cette racine"),
    (f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\nchain {'A' * 64}\n", "empreinte de chaîne « AAAA"),
    (f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\nchain {'a' * 64}\ntime 2026-11-20T09:00:00Z\n",
     "ligne « time 2026-11-20T09:00:00Z » inconnue"),
    (f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\ntime 2026-11-20T09:00:00Z\ntime 2026-11-20T09:00:00Z\n",
     "ligne « time 2026-11-20T09:00:00Z » inconnue"),
])
def test_a_malformed_checkpoint_body_is_refused_saying_what_is_wrong(body, reason):
    with pytest.raises(MalformedCheckpoint) as refused:
        parse_checkpoint_body(body)
    assert str(refused.value).startswith("point de contrôle mal formé : ") and reason in str(refused.value)


def test_a_malformed_body_is_refused_even_when_validly_signed():
    """The log's own key signed a body that is not a checkpoint: the signature holds, the content is refused."""
    from proof.note import sign_note

    note = sign_note(f"{ORIGIN}\n1000\n", KEY)
    with pytest.raises(MalformedCheckpoint, match="trois lignes attendues"):
        open_checkpoint(note, KEY.verifier())


def test_the_empty_log_has_a_checkpoint():
    checkpoint = open_checkpoint(signed(0, EMPTY_ROOT), KEY.verifier())
    assert (checkpoint.size, checkpoint.root) == (0, EMPTY_ROOT)


def test_a_key_signs_only_its_own_log():
    with pytest.raises(SigningKeyError, match="la clé « ac-nancy-metz.fr/incidents » n'est pas celle du journal"):
        sign_checkpoint(Checkpoint("ac-strasbourg.fr/incidents", 1, leaf_hash(b"x")), KEY)


def test_an_instant_without_time_zone_is_refused():
    with pytest.raises(MalformedCheckpoint, match="instant sans fuseau horaire"):
        Checkpoint(ORIGIN, 1, leaf_hash(b"x"), datetime(2026, 11, 20, 9, 0))


def test_the_chain_hash_of_the_last_entry_is_signed_with_the_tree_head():
    chain = hashlib.sha256(b"last entry").hexdigest()
    checkpoint = Checkpoint(ORIGIN, 1000, ROOT, datetime(2026, 11, 20, 9, tzinfo=UTC), chain)
    note = sign_checkpoint(checkpoint, KEY)
    assert note.split("\n")[3:5] == ["time 2026-11-20T09:00:00Z", f"chain {chain}"]
    assert open_checkpoint(note, KEY.verifier()) == checkpoint
    altered = note.replace(chain, hashlib.sha256(b"another entry").hexdigest())
    with pytest.raises(BadSignature):
        open_checkpoint(altered, KEY.verifier())
