"""The 48-hour alert clock counts elapsed hours: across a DST change it ends at another Paris wall-clock hour."""

import pendulum

from policy.clocks import ObligationStatus, cross_party_alert, lateness_seconds, paris, status_at
from policy.parties import Party
from tests.walkers import declared, obligation, shown


def test_alert_clock_crosses_spring_dst_2026():
    # Sunday 29 March 2026, 02:00 CET -> 03:00 CEST: 48 elapsed hours end one wall-clock hour later.
    deadline = cross_party_alert(Party.MUNICIPALITY, pendulum.parse("2026-03-28T10:00:00+01:00"))
    assert paris(deadline.due_at).isoformat() == "2026-03-30T11:00:00+02:00"


def test_alert_clock_crosses_autumn_dst_2026():
    # Sunday 25 October 2026, 03:00 CEST -> 02:00 CET: 48 elapsed hours end one wall-clock hour earlier.
    deadline = cross_party_alert(Party.ACADEMY, pendulum.parse("2026-10-24T10:00:00+02:00"))
    assert paris(deadline.due_at).isoformat() == "2026-10-26T09:00:00+01:00"


def test_due_time_across_dst_as_a_user_reads_it(cli, tmp_path):
    view = declared(cli, tmp_path, aware_at="2026-03-28T10:00:00+01:00", at="2026-03-28T12:00:00+01:00")
    assert obligation(view)["due_at"] == "2026-03-30T11:00:00+02:00"


def test_a_late_declaration_is_born_overdue_and_met_late_with_exact_lateness(cli, tmp_path):
    # Aware on Monday 09:30; declared (and alert delivered) on Wednesday 11:30 Paris: 2 hours past due.
    view = declared(cli, tmp_path, aware_at="2026-11-23T09:30:00+01:00", at="2026-11-25T11:30:00+01:00")
    alert = obligation(view)
    assert alert["status"] == "late"
    assert alert["met_at"] == "2026-11-25T11:30:00+01:00"
    assert alert["late_by_seconds"] == 7200
    # Lateness is frozen once met: reading it a week later changes nothing.
    assert obligation(shown(cli, view["ref"], at="2026-12-02T11:30:00+01:00"))["late_by_seconds"] == 7200


def test_lateness_is_frozen_when_met_and_running_while_overdue():
    due = pendulum.parse("2026-11-25T09:30:00+01:00")
    assert status_at(due, None, due.subtract(seconds=1)) is ObligationStatus.OPEN
    assert status_at(due, None, due) is ObligationStatus.OVERDUE
    assert status_at(due, due, due.add(days=3)) is ObligationStatus.MET
    assert status_at(due, due.add(seconds=1), due) is ObligationStatus.LATE
    assert lateness_seconds(due, due.add(hours=2)) == 7200
    assert lateness_seconds(due, due.subtract(hours=2)) == 0
