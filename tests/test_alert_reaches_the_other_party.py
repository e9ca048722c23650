"""A municipality's declaration reaches the académie's alert addresses over real SMTP; the obligation is met."""

import json

import pendulum
import pytest

from tests.conftest import ACADEMY_ALERTS, MUNICIPALITY_REFERENT, REFERENT, write_declaration
from tests.walkers import declared, obligation, shown


def test_municipality_declaration_alerts_the_academy_by_smtp(cli, smtp, tmp_path):
    view = declared(cli, tmp_path, at="2026-11-28T10:00:00+01:00")
    ref = view["ref"]

    assert ref == "INC-2026-0001"
    for address in ACADEMY_ALERTS:
        [mail] = smtp.to(address)
        assert mail.message["Subject"].startswith(f"[{ref}] Alerte incident de sécurité ENT")
        assert ref in mail.text
        assert "Cette alerte vous parvient dans le délai de 48 heures fixé par l'article 4" in mail.text
        assert "Portée proposée : champ de compétence exclusif de la collectivité" in mail.text
        assert "Il vous est demandé de :" in mail.text
    [receipt] = smtp.to(MUNICIPALITY_REFERENT)  # the declarant's receipt, not the alert
    assert receipt.message["Subject"].startswith(f"[{ref}] Accusé d'enregistrement de votre déclaration")
    assert "au plus tard le lundi 30 novembre 2026 à 09h30 (heure de Paris)" in receipt.text

    alert = obligation(shown(cli, ref))
    assert alert == {
        "kind": "cross_party_alert", "owner": "municipality",
        "anchor_at": "2026-11-28T09:30:00+01:00", "due_at": "2026-11-30T09:30:00+01:00",
        "met_at": "2026-11-28T10:00:00+01:00", "status": "met", "late_by_seconds": 0,
        "next_action_at": None,
    }


def test_academy_declaration_alerts_the_municipal_referent(cli, smtp, tmp_path):
    view = declared(cli, tmp_path, declared_by="academy", categories=["directory"],
                    reporter={"name": "RSSI", "email": "rssi@ac-nancy-metz.example.org"})

    [mail] = smtp.to(MUNICIPALITY_REFERENT)
    assert view["ref"] in mail.text
    assert "L'académie vous alerte" in mail.text
    # The académie declared: the alert goes to the commune; the declarant (the RSSI) gets only its receipt.
    assert smtp.to(ACADEMY_ALERTS[1]) == []
    [receipt] = smtp.to(ACADEMY_ALERTS[0])
    assert "Accusé d'enregistrement" in receipt.message["Subject"]
    assert obligation(view)["owner"] == "academy"
    assert obligation(view)["status"] == "met"


@pytest.mark.real_store  # a real register writes its mail under var/mail/ (a simulation's goes to its own folder)
def test_without_smtp_the_alert_is_written_as_eml_files(cli, tmp_path):
    # On a real register a command that writes acts now (no --at): the commune learnt of it an hour ago.
    aware = pendulum.now("Europe/Paris").subtract(hours=1).isoformat()
    result = cli("declare", str(write_declaration(tmp_path, aware_at=aware)), "--json", "--by", REFERENT)
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)

    files = sorted((tmp_path / "var" / "mail" / view["ref"]).glob("*.eml"))
    assert len(files) == len(ACADEMY_ALERTS) + 1  # the alerts, and the declarant's receipt
    assert all(view["ref"].encode() in path.read_bytes() for path in files)
    assert obligation(view)["status"] == "met"
