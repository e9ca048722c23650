"""RFC 3161 countersignature of checkpoints, against a real timestamping authority on loopback (tests/tsa.py): a
checkpoint signed with INCIDENTS_TSA_URL set carries a token that verifies against the authority's CA, over the
note's SHA-256, dated now; an authority that refuses, lies or is down leaves the checkpoint signed, without a token,
and says so in French; with no authority configured nothing changes."""

import base64
import hashlib
import json
import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from rfc3161_client import VerifierBuilder, decode_timestamp_response
from rfc3161_client.tsp import TimeStampResponse

from tests.conftest import AUDITOR
from tests.tsa import TSA_NAME, LoopbackAuthority, start_authority, stop
from tests.walkers import declared

AT = "2026-11-28T10:00:00+01:00"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def authority(store: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LoopbackAuthority]:
    """A test TSA, configured as the académie's: its URL and its CA's certificate."""
    served = start_authority()
    monkeypatch.setenv("INCIDENTS_TSA_URL", served.url)
    monkeypatch.setenv("INCIDENTS_TSA_CA_FILE", str(served.write_ca(tmp_path)))
    yield served
    stop(served)


def listed(cli) -> list[dict]:
    result = cli("checkpoints", "--by", AUDITOR)
    assert result.exit_code == 0, result.output
    rows: list[dict] = json.loads(result.stdout)
    return rows


def as_response(token: bytes) -> TimeStampResponse:
    """The token as the granted response it came in, built with asn1crypto: the test reads it without our code."""
    return decode_timestamp_response(tsp.TimeStampResp({"status": {"status": "granted"},
                                                        "time_stamp_token": cms.ContentInfo.load(token)}).dump())


def signed(cli, tmp_path: Path) -> tuple[str, str]:
    """A declaration, then `incidents checkpoint`: the note (standard output) and what it said (error stream)."""
    declared(cli, tmp_path, at=AT)
    result = cli("checkpoint", "--by", AUDITOR)
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_a_checkpoint_signed_with_a_tsa_carries_a_token_over_the_notes_sha256_that_verifies_against_its_ca(
        cli, authority, tmp_path):
    note, said = signed(cli, tmp_path)
    assert note.startswith("incidents-ent\n")  # the standard output is still the note alone
    assert f"Point de contrôle horodaté par « {TSA_NAME} » le " in said and "(heure de Paris)" in said

    request = authority.requests[-1]
    assert request["content_type"] == "application/timestamp-query"
    assert request["algorithm"] == "sha256" and request["cert_req"] is True and request["nonce"] is not None
    assert request["imprint"] == hashlib.sha256(note.encode("utf-8")).digest()

    kept = listed(cli)[-1]
    assert kept["note"] == note and kept["timestamp_problem"] is None
    assert kept["timestamp"]["authority"] == TSA_NAME
    token = base64.b64decode(kept["timestamp"]["token"])
    response = as_response(token)
    ca = x509.load_pem_x509_certificate(authority.ca_pem)
    assert VerifierBuilder().add_root_certificate(ca).build().verify_message(response, note.encode("utf-8"))
    assert response.tst_info.message_imprint.message == hashlib.sha256(note.encode("utf-8")).digest()
    assert response.tst_info.nonce == request["nonce"]
    gen_time = pendulum.instance(response.tst_info.gen_time)
    assert abs((pendulum.now("UTC") - gen_time).total_seconds()) < 60
    assert kept["timestamp"]["gen_time"] == gen_time.isoformat()


def test_verify_checks_a_kept_token_offline_and_refuses_it_for_another_note_or_another_ca(
        cli, authority, tmp_path, monkeypatch):
    note, _ = signed(cli, tmp_path)
    point, token = tmp_path / "point.txt", tmp_path / "jeton.tsr"
    point.write_text(note, encoding="utf-8")
    token.write_bytes(base64.b64decode(listed(cli)[-1]["timestamp"]["token"]))
    ca = authority.write_ca(tmp_path)
    monkeypatch.delenv("INCIDENTS_TSA_CA_FILE")  # the auditor names the certificate itself

    checked = cli("verify", "--checkpoint", str(point), "--timestamp", str(token), "--tsa-ca", str(ca),
                  "--by", AUDITOR)
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(f"Horodatage vérifié : « {TSA_NAME} » atteste que ce point de contrôle "
                                     "existait le ")

    # The JSON's base64, pasted into a file as is, is accepted too.
    pasted = tmp_path / "jeton.b64"
    pasted.write_text(listed(cli)[-1]["timestamp"]["token"], encoding="utf-8")
    assert cli("verify", "--checkpoint", str(point), "--timestamp", str(pasted), "--tsa-ca", str(ca),
               "--by", AUDITOR).exit_code == 0

    altered = tmp_path / "altered.txt"
    declared(cli, tmp_path, at=AT, title="Un second incident")
    assert cli("checkpoint", "--by", AUDITOR).exit_code == 0
    altered.write_text(listed(cli)[-1]["note"], encoding="utf-8")  # another genuine note: not the one dated
    refused = cli("verify", "--checkpoint", str(altered), "--timestamp", str(token), "--tsa-ca", str(ca),
                  "--by", AUDITOR)
    assert refused.exit_code == 1
    assert "Horodatage non vérifié : le jeton d'horodatage ne porte pas l'empreinte SHA-256 du point de contrôle" \
        in refused.output

    stranger = start_authority()
    try:
        other_ca = tmp_path / "other"
        other_ca.mkdir()
        refused = cli("verify", "--checkpoint", str(point), "--timestamp", str(token), "--tsa-ca",
                      str(stranger.write_ca(other_ca)), "--by", AUDITOR)
    finally:
        stop(stranger)
    assert refused.exit_code == 1
    assert "Horodatage non vérifié : la signature du jeton d'horodatage ne se vérifie pas" in refused.output

    missing = cli("verify", "--checkpoint", str(point), "--timestamp", str(token), "--by", AUDITOR)
    assert missing.exit_code == 2
    assert "donnez le certificat de l'autorité d'horodatage" in missing.output
    nowhere = cli("verify", "--checkpoint", str(point), "--timestamp", str(token), "--tsa-ca",
                  str(tmp_path / "nowhere.pem"), "--by", AUDITOR)
    assert nowhere.exit_code == 2
    assert "Refusé : option « --tsa-ca » : certificats de l'autorité d'horodatage illisibles" in nowhere.output


def documented(prefix: str) -> str:
    """The README's command that starts with `prefix` (section « Preuve opposable »), its trailing comment cut."""
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(prefix):
            return line.split("   # ")[0]
    raise AssertionError(f"README: no command starting with {prefix!r}")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_documented_openssl_procedure_verifies_the_token(cli, authority, tmp_path):
    """README « Preuve opposable », as written: the note and the token taken out of `incidents checkpoints -o
    points.json` by its python3 line, then its openssl line, with the authority's certificate as autorite.pem."""
    signed(cli, tmp_path)
    assert cli("checkpoints", "-o", str(tmp_path / "points.json"), "--by", AUDITOR).exit_code == 0
    (tmp_path / "autorite.pem").write_bytes(authority.ca_pem)
    extract, check = documented('python3 -c "import base64,json'), documented("openssl ts -verify ")
    subprocess.run(extract, shell=True, cwd=tmp_path, check=True)
    checked = subprocess.run(check, shell=True, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stdout + checked.stderr

    note = (tmp_path / "point.txt").read_text(encoding="utf-8")
    (tmp_path / "point.txt").write_text(note.replace("\n", "\n\n", 1), encoding="utf-8")
    tampered = subprocess.run(check, shell=True, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert tampered.returncode != 0 and "Verification: FAILED" in tampered.stdout


@pytest.mark.parametrize(("mode", "reason"), [
    ("reject", "l'autorité d'horodatage a refusé la demande (statut 2 : demande refusée)"),
    ("wrong_imprint", "le jeton d'horodatage ne porte pas l'empreinte SHA-256 du point de contrôle"),
    ("wrong_nonce", "le jeton d'horodatage ne répond pas à cette demande (aléa différent)"),
    ("http_error", "l'autorité d'horodatage a répondu par une erreur HTTP 500"),
    ("garbage", "l'autorité d'horodatage a renvoyé une réponse illisible (pas une réponse RFC 3161)"),
])
def test_a_failing_tsa_leaves_the_checkpoint_signed_without_a_token_and_says_why(
        cli, authority, tmp_path, mode, reason):
    authority.mode = mode
    note, said = signed(cli, tmp_path)
    assert note.startswith("incidents-ent\n")
    assert f"Point de contrôle signé, mais non horodaté : {reason}. Il reste valable" in said
    kept = listed(cli)[-1]
    assert kept["note"] == note
    assert kept["timestamp"] is None and kept["timestamp_problem"] == reason

    status = cli("status", "--json", "--by", AUDITOR)
    view = json.loads(status.stdout)
    assert view["timestamp_problem"] == reason
    assert f"le dernier point de contrôle est signé mais non horodaté : {reason} (l'autorité d'horodatage " \
        "répond-elle ?)" in view["attention"]


def test_a_token_not_signed_by_the_configured_ca_is_not_stored(cli, authority, tmp_path, monkeypatch):
    stranger = start_authority()
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("INCIDENTS_TSA_CA_FILE", str(stranger.write_ca(other)))
    stop(stranger)
    _, said = signed(cli, tmp_path)
    assert "Point de contrôle signé, mais non horodaté : la signature du jeton d'horodatage ne se vérifie pas avec " \
        "les certificats de l'autorité" in said
    assert listed(cli)[-1]["timestamp"] is None


def test_an_unreachable_tsa_does_not_stop_the_engine_pass_which_logs_a_warning(cli, authority, tmp_path, caplog):
    stop(authority)  # nothing listens any more
    declared(cli, tmp_path, at=AT)
    with caplog.at_level(logging.WARNING, logger="models.checkpoints"):
        result = cli("watch", "--at", AT)
    assert result.exit_code == 0, result.output
    kept = listed(cli)
    assert len(kept) == 1 and kept[0]["timestamp"] is None
    assert kept[0]["timestamp_problem"].startswith("l'autorité d'horodatage est injoignable (")
    warnings = [record.getMessage() for record in caplog.records if record.name == "models.checkpoints"]
    assert warnings == [f"Point de contrôle signé sans horodatage : {kept[0]['timestamp_problem']}."]
    assert "54999" not in warnings[0] and "Messagerie" not in warnings[0]  # nothing of the incident


def test_an_engine_pass_timestamps_the_checkpoint_it_signs(cli, authority, tmp_path):
    declared(cli, tmp_path, at=AT)
    assert cli("watch", "--at", AT).exit_code == 0
    kept = listed(cli)
    assert len(kept) == 1 and kept[0]["timestamp"]["authority"] == TSA_NAME
    assert len(authority.requests) == 1


def test_without_a_tsa_configured_checkpoints_are_signed_as_before(cli, store, tmp_path, monkeypatch):
    monkeypatch.delenv("INCIDENTS_TSA_URL", raising=False)
    note, said = signed(cli, tmp_path)
    assert "horodat" not in said
    kept = listed(cli)[-1]
    assert kept["note"] == note and kept["timestamp"] is None and kept["timestamp_problem"] is None
    status = json.loads(cli("status", "--json", "--by", AUDITOR).stdout)
    assert status["timestamp_problem"] is None


def test_only_an_http_authority_is_asked_and_a_bad_setting_only_costs_the_timestamp(monkeypatch):
    from models.checkpoints import countersign_if_configured
    from proof.timestamping import TimestampError, configured_authority

    monkeypatch.delenv("INCIDENTS_TSA_URL", raising=False)
    assert countersign_if_configured("note\n") == (None, None)
    with pytest.raises(TimestampError, match="INCIDENTS_TSA_URL doit être une adresse http:// ou https://"):
        configured_authority({"INCIDENTS_TSA_URL": "file:///etc/passwd"})
    with pytest.raises(TimestampError, match="INCIDENTS_TSA_TIMEOUT doit être un nombre de secondes"):
        configured_authority({"INCIDENTS_TSA_URL": "http://127.0.0.1:9/", "INCIDENTS_TSA_TIMEOUT": "bientôt"})
    monkeypatch.setenv("INCIDENTS_TSA_URL", "file:///etc/passwd")
    assert countersign_if_configured("note\n") == (None, "INCIDENTS_TSA_URL doit être une adresse http:// ou "
                                                         "https://")
