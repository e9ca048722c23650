"""The signing key lives outside the database: taken from an environment setting (PEM or base64) or a file, or
generated on first use into a file only its owner can read; its public half prints as the parties keep it."""

import base64
import os
import stat
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proof.errors import SigningKeyError
from proof.keys import (
    KEY_FILE_NAME,
    KEY_FILE_SETTING,
    KEY_SETTING,
    SigningKey,
    load_signing_key,
    parse_verifier_key,
    private_key_pem,
)

ORIGIN = "ac-nancy-metz.fr/incidents"
FIXED = SigningKey(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


@pytest.fixture
def store() -> None:
    """No register: the key never goes into one (replaces the suite's per-test store)."""


def test_the_key_is_generated_on_first_use_readable_by_its_owner_only(tmp_path):
    folder = tmp_path / "var"
    first = load_signing_key(ORIGIN, folder, {})
    path = folder / KEY_FILE_NAME
    assert first.created and first.source == f"fichier {path}" and first.warnings == ()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = load_signing_key(ORIGIN, folder, {})
    assert not again.created and again.key.public_key == first.key.public_key
    assert [entry.name for entry in folder.iterdir()] == [KEY_FILE_NAME]  # no draft left behind


def test_processes_starting_together_agree_on_one_key(tmp_path):
    folder, keys = tmp_path / "var", []
    threads = [threading.Thread(target=lambda: keys.append(load_signing_key(ORIGIN, folder, {}))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({loaded.key.public_key for loaded in keys}) == 1
    assert sum(loaded.created for loaded in keys) == 1


def test_the_public_key_prints_with_its_name_and_key_id():
    text = FIXED.public_text()
    name, key_id, material = text.split("+", 2)
    assert (name, key_id) == (ORIGIN, FIXED.key_id.hex())
    assert base64.b64decode(material) == b"\x01" + FIXED.public_key
    assert parse_verifier_key(text) == FIXED.verifier()


@pytest.mark.parametrize("form", ["pem", "base64"])
def test_the_key_can_come_from_an_environment_setting(tmp_path, form):
    value = private_key_pem(FIXED).decode() if form == "pem" else base64.b64encode(bytes(range(32))).decode()
    loaded = load_signing_key(ORIGIN, tmp_path, {KEY_SETTING: value})
    assert loaded.key.public_key == FIXED.public_key and loaded.source == f"réglage {KEY_SETTING}"
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_the_key_can_come_from_a_file_named_by_a_setting(tmp_path):
    path = tmp_path / "secret.pem"
    path.write_bytes(private_key_pem(FIXED))
    os.chmod(path, 0o644)
    loaded = load_signing_key(ORIGIN, tmp_path / "var", {KEY_FILE_SETTING: str(path)})
    assert loaded.key.public_key == FIXED.public_key
    assert loaded.source == f"fichier {path} (réglage {KEY_FILE_SETTING})"
    assert loaded.warnings == (f"la clé de signature {path} est lisible par d'autres comptes que le sien "
                               "(droits 0644, 0600 attendu)",)


def test_a_missing_key_file_named_by_a_setting_is_not_silently_replaced(tmp_path):
    missing = tmp_path / "absent.pem"
    with pytest.raises(SigningKeyError, match=f"fichier {missing} \\(réglage {KEY_FILE_SETTING}\\) introuvable"):
        load_signing_key(ORIGIN, tmp_path, {KEY_FILE_SETTING: str(missing)})
    assert not missing.exists()


@pytest.mark.parametrize(("value", "reason"), [
    ("pas une clé", "base64 invalide"),
    (base64.b64encode(bytes(31)).decode(), "clé privée Ed25519 attendue : PEM (PKCS #8) ou 32 octets en base64"),
    ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "clé privée PEM illisible"),
])
def test_an_unusable_key_setting_is_refused_naming_the_setting(tmp_path, value, reason):
    with pytest.raises(SigningKeyError) as refused:
        load_signing_key(ORIGIN, tmp_path, {KEY_SETTING: value})
    assert str(refused.value).startswith(f"réglage « {KEY_SETTING} » : ") and reason in str(refused.value)


def test_two_key_settings_at_once_are_refused(tmp_path):
    with pytest.raises(SigningKeyError, match="n'en garder qu'un"):
        load_signing_key(ORIGIN, tmp_path, {KEY_SETTING: "x", KEY_FILE_SETTING: "y"})


def test_a_log_name_with_a_space_or_a_plus_is_refused(tmp_path):
    for name in ("", "mon journal", "a+b"):
        with pytest.raises(SigningKeyError, match="sans espace ni « \\+ »"):
            load_signing_key(name, tmp_path, {KEY_SETTING: base64.b64encode(bytes(32)).decode()})


def test_a_pem_public_key_is_accepted_by_the_verifier():
    from cryptography.hazmat.primitives import serialization

    pem = FIXED.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    key = parse_verifier_key(pem.decode())
    assert key.public_key == FIXED.public_key and key.name is None
