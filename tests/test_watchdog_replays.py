"""Replays with --at: reminders, escalation and the overdue notice of the 48-hour alert clock, each sent once to
the right people, across the autumn 2026 DST change; passes run twice or after a gap send nothing twice."""

import json

import pytest

from tests.conftest import (
    ACADEMY_ALERTS,
    ACADEMY_ESCALATION,
    ACADEMY_REPORTER,
    MUNICIPALITY_ESCALATION,
    MUNICIPALITY_REFERENT,
)
from tests.walkers import declared, obligation, shown, timeline_of

# Aware on Saturday 24 October 2026, 10:00 CEST; the clocks go back on Sunday 25 at 03:00.
AWARE = "2026-10-24T10:00:00+02:00"
AT_24H = "2026-10-25T09:00:00+01:00"  # wall clock shows 23 hours later
AT_36H = "2026-10-25T21:00:00+01:00"
AT_43H12 = "2026-10-26T04:12:00+01:00"
AT_48H = "2026-10-26T09:00:00+01:00"


def watch(cli, at):
    result = cli("watch", "--json", "--at", at)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def step_mails(smtp, since=0):
    """(recipient, subject) of the deadline notices received after the first `since` mails."""
    notices = ("Rappel", "Escalade", "Échéance dépassée")
    return sorted((rcpt, str(mail.message["Subject"])) for mail in smtp.received[since:] for rcpt in mail.recipients
                  if any(word in str(mail.message["Subject"]) for word in notices))


@pytest.fixture
def undeliverable_alert(cli, smtp, tmp_path):
    """The académie declares; the commune's referent mailbox answers "try later", so the alert stays undelivered."""
    smtp.defer.add(MUNICIPALITY_REFERENT)
    view = declared(cli, tmp_path, declared_by="academy", categories=["directory"], reporter=ACADEMY_REPORTER,
                    aware_at=AWARE, at="2026-10-24T10:30:00+02:00")
    assert obligation(view)["status"] == "open"
    assert obligation(view)["due_at"] == AT_48H
    return view["ref"]


def test_reminders_escalation_and_overdue_each_once_to_the_right_people_across_dst(cli, smtp, undeliverable_alert):
    ref = undeliverable_alert

    assert watch(cli, "2026-10-25T08:59:59+01:00")["steps"] == []

    seen = len(smtp.received)
    assert [s["step"] for s in watch(cli, AT_24H)["steps"]] == ["reminder_50"]
    assert step_mails(smtp, seen) == [(address, f"[{ref}] Rappel : alerte de l'autre partie")
                                      for address in sorted(ACADEMY_ALERTS)]

    seen = len(smtp.received)
    assert [s["step"] for s in watch(cli, AT_36H)["steps"]] == ["reminder_75"]
    assert step_mails(smtp, seen) == [(address, f"[{ref}] Rappel : alerte de l'autre partie")
                                      for address in sorted(ACADEMY_ALERTS)]
    [reminder_75] = [mail for mail in smtp.received[seen:] if ACADEMY_ALERTS[0] in mail.recipients
                     and "Rappel" in str(mail.message["Subject"])]
    assert "(75 % du délai écoulé)" in reminder_75.text

    seen = len(smtp.received)
    assert [s["step"] for s in watch(cli, AT_43H12)["steps"]] == ["escalation_90"]
    assert step_mails(smtp, seen) == [(ACADEMY_ESCALATION, f"[{ref}] Escalade : alerte de l'autre partie")]

    seen = len(smtp.received)
    assert [s["step"] for s in watch(cli, AT_48H)["steps"]] == ["overdue_100"]
    assert step_mails(smtp, seen) == sorted(
        (address, f"[{ref}] Échéance dépassée : alerte de l'autre partie")
        for address in (ACADEMY_ESCALATION, MUNICIPALITY_ESCALATION))

    assert obligation(shown(cli, ref, at=AT_48H))["status"] == "overdue"
    assert len(step_mails(smtp)) == 2 + 2 + 1 + 2  # nothing else, nothing twice
    kinds = [e["kind"] for e in timeline_of(cli, ref)]
    assert kinds.count("deadline_reminder") == 2
    assert kinds.count("deadline_escalation") == 1
    assert kinds.count("obligation_overdue") == 1


def test_a_deadline_notice_carries_the_due_time_and_a_calendar_event(cli, smtp, undeliverable_alert):
    watch(cli, AT_24H)
    [mail] = smtp.to(ACADEMY_ALERTS[0], "Rappel")
    assert "l'échéance du lundi 26 octobre 2026 à 09h00 (heure de Paris)" in " ".join(mail.text.split())
    [calendar] = [part for part in mail.message.iter_attachments() if part.get_content_type() == "text/calendar"]
    ics = calendar.get_content()
    assert "DTSTART:20261026T080000Z" in ics
    assert f"SUMMARY:[{undeliverable_alert}] Échéance : alerte de l'autre partie" in ics


def test_two_passes_at_the_same_instant_send_nothing_the_second_time(cli, smtp, undeliverable_alert):
    first = watch(cli, AT_24H)
    received = len(smtp.received)
    second = watch(cli, AT_24H)

    assert [s["step"] for s in first["steps"]] == ["reminder_50"]
    assert (second["steps"], second["delivered"]) == ([], 0)
    assert len(smtp.received) == received


def test_a_pass_after_a_three_day_gap_sends_one_overdue_notice_not_a_backlog(cli, smtp, undeliverable_alert):
    ref = undeliverable_alert
    seen = len(smtp.received)

    result = watch(cli, "2026-10-27T10:30:00+01:00")

    assert result["steps"] == [{"ref": ref, "obligation": "cross_party_alert", "step": "overdue_100",
                                "skipped": ["reminder_50", "reminder_75", "escalation_90"], "messages": 2}]
    assert [subject for _, subject in step_mails(smtp, seen)] == [
        f"[{ref}] Échéance dépassée : alerte de l'autre partie"] * 2
    skipped = [e for e in timeline_of(cli, ref) if e["kind"] == "steps_skipped"]
    assert [e["payload"]["steps"] for e in skipped] == [["reminder_50", "reminder_75", "escalation_90"]]
