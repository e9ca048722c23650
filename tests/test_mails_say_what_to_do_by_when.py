"""Each mail tells its reader their own running deadlines as dates (« déjà dépassée » when so), and only the party an
obligation falls to is asked to act on it."""

import json

from tests.conftest import (
    ACADEMY_ALERTS,
    ACADEMY_ESCALATION,
    ACADEMY_REPORTER,
    MUNICIPALITY_ESCALATION,
    MUNICIPALITY_REFERENT,
)
from tests.walkers import declared


def test_the_alert_gives_the_academy_its_cnil_deadline_not_the_senders(cli, smtp, tmp_path):
    declared(cli, tmp_path, personal_data="yes", categories=["vendor", "personal_data"])

    for address in ACADEMY_ALERTS:
        [alert] = smtp.to(address)
        assert "Vos échéances :" in alert.text
        assert ("Notification à la CNIL, au plus tard le mardi 1er décembre 2026 à 09h30 (heure de Paris)"
                in alert.text)
        assert "déjà dépassée" not in alert.text
        assert "Cette alerte vous parvient dans le délai de 48 heures" in alert.text
        assert "Délai de l'alerte" not in alert.text  # the sender's own deadline, met by this very mail
        assert "Vos échéances" in alert.html and "1er décembre 2026" in alert.html


def test_a_deadline_already_passed_is_said_so(cli, smtp, tmp_path):
    declared(cli, tmp_path, personal_data="yes", aware_at="2026-11-24T09:00:00+01:00",
             at="2026-11-28T10:00:00+01:00")

    [alert] = smtp.to(ACADEMY_ALERTS[0])
    assert ("Notification à la CNIL, au plus tard le vendredi 27 novembre 2026 à 09h00 (heure de Paris), "
            "échéance déjà dépassée" in alert.text)
    assert "après le délai de 48 heures fixé par l'article 4" in alert.text
    assert "échéance déjà dépassée" in alert.html


def test_a_recipient_with_nothing_due_is_told_so(cli, smtp, tmp_path):
    declared(cli, tmp_path, declared_by="academy", categories=["directory"], reporter=ACADEMY_REPORTER)

    [alert] = smtp.to(MUNICIPALITY_REFERENT)
    assert "Aucune échéance ne court pour vous à ce stade." in alert.text
    assert "Vos échéances" not in alert.text


def test_the_overdue_notice_asks_only_the_owner_to_act(cli, smtp, tmp_path):
    view = declared(cli, tmp_path, personal_data="yes")
    result = cli("watch", "--json", "--at", "2026-12-01T09:31:00+01:00")  # the CNIL's 72 hours have run out
    assert result.exit_code == 0, result.output
    assert any(step["step"].startswith("overdue") and step["obligation"] == "cnil_notification"
               for step in json.loads(result.stdout)["steps"])

    def overdue_notice(address: str) -> str:
        [mail] = [m for m in smtp.to(address) if "Échéance dépassée" in str(m.message["Subject"])
                  and "CNIL" in m.text]
        return mail.text

    to_owner, to_other = overdue_notice(ACADEMY_ESCALATION), overdue_notice(MUNICIPALITY_ESCALATION)
    assert "Nous vous remercions de faire le nécessaire au plus vite." in to_owner
    assert "faire le nécessaire" not in to_other
    assert "Cette obligation ne vous incombe pas" in to_other
    assert view["ref"] in to_other


def test_the_declarants_receipt_gives_their_own_deadlines_not_the_engines(cli, smtp, tmp_path):
    declared(cli, tmp_path, declared_by="academy", categories=["directory", "personal_data"], personal_data="yes",
             reporter=ACADEMY_REPORTER)

    [receipt] = smtp.to(ACADEMY_ALERTS[0])  # the RSSI declared: the receipt is theirs
    assert "Notification à la CNIL, au plus tard le mardi 1er décembre 2026 à 09h30 (heure de Paris)" in receipt.text
    assert "Alerte de l'autre partie, au plus tard" not in receipt.text  # the engine's to send, not theirs
    assert "que vous confirmez ou corrigez" in receipt.text
