"""Signed notes are byte for byte those of the reference implementation, so any transparency-log tool reads our
checkpoints; a malformed note, a foreign key and an altered text are each refused by name.

Source of the vectors: golang.org/x/mod, `sumdb/note/note_test.go` (BSD): the PeterNeumann and EnochRoot keys,
the text they sign and their signatures (Ed25519 is deterministic, so signing again gives the same bytes), and the
malformed notes its Open refuses.
"""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proof.errors import BadSignature, MalformedCheckpoint, SigningKeyError, UnknownKey
from proof.keys import SigningKey, parse_verifier_key
from proof.note import open_note, parse_note, sign_note

PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = ("— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6Ryy"
             "BwJnAM=\n")
ENOCH_SIG = ("— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc"
             "+QQ=\n")


@pytest.fixture
def store() -> None:
    """Pure functions: no register to create (replaces the suite's per-test store)."""


def peter() -> SigningKey:
    """The Go signer key is `PRIVATE+KEY+<name>+<key id>+base64(0x01 || Ed25519 seed)`."""
    material = base64.b64decode(PETER_SIGNER.split("+", 4)[4])
    assert material[0] == 0x01
    return SigningKey("PeterNeumann", Ed25519PrivateKey.from_private_bytes(material[1:]))


def test_signing_reproduces_the_reference_note_byte_for_byte():
    assert sign_note(TEXT, peter()) == TEXT + "\n" + PETER_SIG


def test_the_printable_public_key_is_the_reference_verifier_key():
    key = peter()
    assert key.public_text() == PETER_VERIFIER
    assert key.key_id.hex() == "c74f20a3"
    assert parse_verifier_key(PETER_VERIFIER) == key.verifier()


def test_a_note_opens_with_its_key_and_ignores_other_signers():
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, parse_verifier_key(PETER_VERIFIER))
    assert note.text == TEXT
    assert [signature.label() for signature in note.signatures] == ["PeterNeumann+c74f20a3", "EnochRoot+af0cfe78"]
    assert open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, parse_verifier_key(ENOCH_VERIFIER)).text == TEXT


def test_a_note_signed_with_another_key_is_refused_naming_both_keys():
    with pytest.raises(UnknownKey) as refused:
        open_note(TEXT + "\n" + ENOCH_SIG, parse_verifier_key(PETER_VERIFIER))
    assert str(refused.value) == ("signé par une autre clé : « EnochRoot+af0cfe78 » ; clé attendue "
                                  f"« {PETER_VERIFIER} »")


def test_a_note_whose_text_was_altered_is_refused():
    altered = TEXT.replace("cryptography", "cryptographY") + "\n" + PETER_SIG
    with pytest.raises(BadSignature) as refused:
        open_note(altered, parse_verifier_key(PETER_VERIFIER))
    assert str(refused.value) == ("la signature de la clé « PeterNeumann+c74f20a3 » ne correspond pas au texte "
                                  "signé : le texte a été modifié après sa signature")


def test_a_corrupted_signature_of_the_expected_key_is_refused():
    # note_test.go's "Invalid signature": four characters inserted after the key id.
    corrupted = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(BadSignature):
        open_note(corrupted, parse_verifier_key(PETER_VERIFIER))


@pytest.mark.parametrize(("message", "reason"), [
    (TEXT, "pas de ligne vide avant les signatures"),
    (TEXT + "\n", "aucune signature"),
    (TEXT + "\n" + PETER_SIG[:-1], "elle doit finir par un saut de ligne"),
    ("\x01" + TEXT + "\n" + PETER_SIG, "caractère de contrôle U+0001 interdit"),
    ("\ud800" + TEXT + "\n" + PETER_SIG, "texte UTF-8 invalide"),
    (TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6R"
     "yyBwJnAM=\n", "ligne de signature n° 1 : base64 invalide"),
    (TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "ligne de signature n° 2 sans tiret cadratin « — » en tête"),
    (TEXT + "\n" + PETER_SIG.replace("—", "-"), "ligne de signature n° 1 sans tiret cadratin"),
    (TEXT + "\n" + PETER_SIG * 101, "plus de 100 signatures"),
    (TEXT + "\n" + "— PeterNeumann AAAA\n", "ligne de signature n° 1 : signature trop courte"),
    (TEXT + "\n" + "— a+b " + PETER_SIG.split(" ")[2], "nom de journal « a+b » invalide"),
])
def test_a_malformed_note_is_refused_saying_what_is_wrong(message, reason):
    with pytest.raises(MalformedCheckpoint) as refused:
        parse_note(message)
    assert str(refused.value).startswith("note signée mal formée : ") and reason in str(refused.value)
    with pytest.raises(MalformedCheckpoint):
        open_note(message, parse_verifier_key(PETER_VERIFIER))


@pytest.mark.parametrize("mangled", [
    PETER_VERIFIER[:-1],
    PETER_VERIFIER.replace("c74f20a3", "c74f20a4"),
    PETER_VERIFIER.replace("PeterNeumann", "PeterNeuman"),
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm (note_test.go)
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # wrong length (note_test.go)
])
def test_a_mangled_public_key_is_refused(mangled):
    with pytest.raises(SigningKeyError):
        parse_verifier_key(mangled)


def test_a_bare_public_key_trusts_the_name_of_the_line_it_verifies():
    bare = parse_verifier_key(base64.b64encode(peter().public_key).decode())
    assert bare.name is None
    assert open_note(TEXT + "\n" + ENOCH_SIG + PETER_SIG, bare).text == TEXT
