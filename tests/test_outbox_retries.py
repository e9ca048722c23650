"""SMTP refusing for a while, then accepting: nothing lost, nothing sent twice, attempts on record; a message that
keeps failing is escalated and stays visible."""

import json

import pytest

from tests.conftest import ACADEMY_ALERTS, MUNICIPALITY_ESCALATION, REFERENT
from tests.walkers import declared, obligation, shown, timeline_of

T0 = "2026-11-28T10:00:00+01:00"


@pytest.fixture(autouse=True)
def one_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test relay refuses "the next N messages": over one connection, they are those at the head of the queue
    (alerts by id), which the tests name; over several, whichever arrives first."""
    monkeypatch.setenv("INCIDENTS_SMTP_CONNECTIONS", "1")


def watch(cli, at):
    result = cli("watch", "--json", "--at", at)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def messages_by_recipient(view):
    return {m["recipient"]: m for m in view["messages"] if m["template"] == "cross_party_alert"}


def test_refused_then_accepted_nothing_lost_nothing_twice_attempts_on_record(cli, smtp, tmp_path):
    smtp.refuse = 4
    ref = declared(cli, tmp_path, at=T0)["ref"]
    assert smtp.received == []  # both alerts and the declarant's receipt refused

    too_early = watch(cli, "2026-11-28T10:00:30+01:00")  # first retry waits 60 s
    second = watch(cli, "2026-11-28T10:01:00+01:00")  # rssi refused again, dsden and the receipt accepted
    third = watch(cli, "2026-11-28T10:03:00+01:00")  # rssi's retry waited 120 s: accepted

    assert (too_early["delivered"], too_early["failed"]) == (0, 0)
    assert (second["delivered"], second["failed"]) == (2, 1)
    assert (third["delivered"], third["failed"]) == (1, 0)
    assert sorted(r for mail in smtp.received for r in mail.recipients) == sorted([*ACADEMY_ALERTS, REFERENT])
    view = shown(cli, ref)
    messages = messages_by_recipient(view)
    assert {address: (m["status"], m["attempts"]) for address, m in messages.items()} == {
        "rssi@ac-nancy-metz.example.org": ("sent", 3),
        "dsden54-numerique@ac-nancy-metz.example.org": ("sent", 2),
    }
    assert obligation(view)["met_at"] == "2026-11-28T10:03:00+01:00"
    failures = [e["payload"] for e in timeline_of(cli, ref) if e["kind"] == "message_failed"]
    assert [(f["recipient"], f["attempts"]) for f in failures] == [
        ("rssi@ac-nancy-metz.example.org", 1), ("dsden54-numerique@ac-nancy-metz.example.org", 1),
        (REFERENT, 1), ("rssi@ac-nancy-metz.example.org", 2)]
    assert all("451" in f["error"] for f in failures)


def test_a_message_that_keeps_failing_is_escalated_once_and_stays_visible(cli, smtp, tmp_path):
    smtp.defer.add(ACADEMY_ALERTS[0])
    ref = declared(cli, tmp_path, at=T0)["ref"]
    # Backoff 60, 120, 240, 480 s: the fifth attempt falls 15 minutes after the first.
    for at in ("10:01", "10:03", "10:07", "10:15", "10:31"):
        watch(cli, f"2026-11-28T{at}:00+01:00")

    [notice] = smtp.to(MUNICIPALITY_ESCALATION)
    assert notice.message["Subject"] == f"[{ref}] Message non remis à {ACADEMY_ALERTS[0]}"
    assert "n'a pas pu être remis après 5 tentatives" in notice.text
    failing = messages_by_recipient(shown(cli, ref))[ACADEMY_ALERTS[0]]
    assert (failing["status"], failing["attempts"]) == ("pending", 6)
    assert "451" in failing["last_error"]
    assert failing["escalated_at"] == "2026-11-28T10:15:00+01:00"
    assert failing["next_attempt_at"] == "2026-11-28T11:03:00+01:00"  # 60 s × 2⁵ after the sixth failure


def test_a_552_is_refused_for_good_at_once_escalated_and_shown_while_a_451_is_retried(cli, smtp, tmp_path):
    smtp.too_large = 1  # the first alert (to the RSSI) is too large for the relay; the second goes through
    ref = declared(cli, tmp_path, at=T0)["ref"]

    messages = messages_by_recipient(shown(cli, ref))
    refused = messages[ACADEMY_ALERTS[0]]
    assert (refused["status"], refused["attempts"], refused["next_attempt_at"]) == ("refused", 1, None)
    assert "552" in refused["last_error"]
    assert refused["escalated_at"] == "2026-11-28T10:00:00+01:00"  # at once, not after five attempts
    assert messages[ACADEMY_ALERTS[1]]["status"] == "sent"
    [notice] = smtp.to(MUNICIPALITY_ESCALATION)
    assert notice.message["Subject"] == f"[{ref}] Message pour {ACADEMY_ALERTS[0]} refusé définitivement"
    assert "refusé définitivement par le serveur de messagerie : il ne sera pas renvoyé" in notice.text
    assert [e["kind"] for e in timeline_of(cli, ref)].count("message_refused") == 1

    later = watch(cli, "2026-11-28T12:00:00+01:00")  # hours later: never tried again
    assert (later["delivered"], later["failed"], later["refused"]) == (0, 0, 0)
    assert len(smtp.to(ACADEMY_ALERTS[0])) == 0
    # The alert is not delivered: its clock keeps running (seen as of that later pass, not of today's date).
    assert obligation(shown(cli, ref, at="2026-11-28T12:00:00+01:00"))["status"] == "open"


def test_an_obligation_met_cancels_the_notices_still_queued_for_it(cli, smtp, tmp_path):
    """After an outage, the reminders and escalations queued about an alert neither precede nor follow the late
    alert."""
    smtp.refuse = 10_000  # the relay refuses everything for two days
    ref = declared(cli, tmp_path, at=T0)["ref"]
    for at in ("2026-11-29T10:30:00+01:00", "2026-11-29T22:30:00+01:00", "2026-11-30T05:30:00+01:00"):
        watch(cli, at)  # 50 %, 75 % reminders, 90 % escalation: all queued, none delivered
    queued = [m for m in shown(cli, ref)["messages"] if m["template"] in ("deadline_step", "delivery_failure")]
    assert [m["step"] for m in queued if m["template"] == "deadline_step"] == \
        ["reminder_50", "reminder_75", "escalation_90"]
    assert {m["status"] for m in queued} == {"pending"}  # with the failure notices (no fallback relay here)
    assert smtp.received == []

    smtp.refuse = 0
    # The relay is back when the escalation's retry is due but the alert's (on a longer backoff) is not yet: the
    # alert still goes first, and the escalation about it does not follow.
    back = watch(cli, "2026-11-30T05:31:00+01:00")

    assert sorted(r for mail in smtp.received for r in mail.recipients) == sorted(ACADEMY_ALERTS)
    assert back["delivered"] == 2
    view = shown(cli, ref)
    assert obligation(view)["status"] == "met"
    notices = [m for m in view["messages"] if m["template"] not in ("cross_party_alert", "declaration_receipt")]
    assert {m["status"] for m in notices} == {"cancelled"}
    [cancelled] = [e["payload"] for e in timeline_of(cli, ref) if e["kind"] == "message_cancelled"]
    assert (cancelled["messages"], cancelled["reason"]) == (len(queued), "l'obligation est remplie")


def test_those_told_a_message_was_failing_hear_when_it_finally_gets_through(cli, smtp, tmp_path):
    smtp.defer.add(ACADEMY_ALERTS[0])
    ref = declared(cli, tmp_path, at=T0)["ref"]
    for at in ("10:01", "10:03", "10:07", "10:15"):  # the fifth attempt fails: the commune's cabinet is told
        watch(cli, f"2026-11-28T{at}:00+01:00")
    [notice] = smtp.to(MUNICIPALITY_ESCALATION)
    assert "n'a pas pu être remis" in notice.text

    smtp.defer.clear()
    watch(cli, "2026-11-28T10:31:00+01:00")

    [failed, recovered] = smtp.to(MUNICIPALITY_ESCALATION)
    assert recovered.message["Subject"] == f"[{ref}] Message finalement remis à {ACADEMY_ALERTS[0]}"
    assert "Il lui a finalement été remis le samedi 28 novembre 2026 à 10h31" in " ".join(recovered.text.split())
    assert "après 6 tentatives" in recovered.text
    assert obligation(shown(cli, ref))["status"] == "met"
