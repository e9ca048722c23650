"""A steering report over a period that is not over counts its clocks as of now: a CNIL deadline later this week is
pending, not overdue, and the report says at which instant its figures stop."""

import json

import pendulum

from tests.conftest import AUDITOR
from tests.walkers import declared

BREACH = {"personal_data": "unknown", "categories": ["vendor", "personal_data"], "data_subjects": {"pupils": 40}}


def test_a_deadline_still_ahead_is_not_counted_overdue(cli, tmp_path):
    now = pendulum.now("Europe/Paris")
    declared(cli, tmp_path, at=now.subtract(minutes=5).isoformat(), aware_at=now.subtract(hours=1).isoformat(),
             **BREACH)
    period = ("--from", now.date().isoformat(), "--to", now.add(days=10).date().isoformat())

    report = json.loads(cli("report", "steering", *period, "--format", "json", "--by", AUDITOR).stdout)
    assert report["overdue_at_end"] == []
    assert report["on_time_by_kind"]["cnil_notification"]["overdue"] == 0
    assert report["on_time_by_kind"]["cnil_notification"]["pending"] == 1
    assert report["period"]["over"] is False
    markdown = cli("report", "steering", *period, "--format", "md", "--by", AUDITOR).stdout
    assert "| Échéances dépassées au " in markdown and "(heure de Paris), période en cours | 0 |" in markdown
    html = cli("report", "steering", *period, "--by", AUDITOR).stdout
    assert "Échéances dépassées au " in html and "(heure de Paris), période en cours</th>" in html


def test_a_period_not_begun_is_refused(cli):
    tomorrow = pendulum.now("Europe/Paris").add(days=1).date().isoformat()
    refused = cli("report", "steering", "--from", tomorrow, "--to", tomorrow, "--by", AUDITOR)
    assert refused.exit_code == 2
    assert refused.stderr.strip() == "Refusé : champ « --from » : la période n'a pas encore commencé."


def test_the_portal_refuses_a_period_not_begun_beside_its_field(store):
    import html

    from tests.portal_client import Browser, text_of

    tomorrow = pendulum.now("Europe/Paris").add(days=1).date().isoformat()
    page = Browser(AUDITOR).get(f"/rapports/pilotage?du={tomorrow}&au={tomorrow}")
    assert page.status_code == 400
    assert "la période n'a pas encore commencé" in html.unescape(text_of(page.text))
