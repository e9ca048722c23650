"""The issue's trials at a small size, as a user would run them (`python -m trials.<name>`): each sets up its own
store, relays and environment, and returns the counts it prints."""

import asyncio
import signal
from collections.abc import Iterator

import pytest
from sqlmodel import select

from flows.steps import engine_pass_bare, propose_scopes, queued_incident_ids
from models.db import read_scope
from models.outbox import OutboxMessage
from trials import crash, deadlock, four_passes, outage, overlap
from trials.common import (
    T0,
    PassProcess,
    declare,
    duplicates,
    fresh_store,
    lost,
    pass_in_process,
    relay_env,
    report,
    stored_messages,
    wait_for_arrivals,
)
from trials.postgres import free_port, postgres_server
from trials.relay import Mode, Relay


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """One PostgreSQL server from its binaries for the module; each trial makes its own database there."""
    with postgres_server() as url:
        yield url


def test_an_outage_delivers_each_alert_once_sends_no_stale_reminder_and_reaches_the_fallback() -> None:
    counts = outage.run(size=5)
    report(counts)

    assert (counts.alerts_once, counts.alerts_missing, counts.alerts_repeated) == (10, 0, 0)
    assert counts.step_mails_queued > 0  # the watchdog did take the alerts' deadline steps during the outage
    assert counts.stale_step_mails == 0
    assert counts.failure_notices_fallback >= 1
    assert counts.lost == 0


def test_overlapping_passes_on_sqlite_send_nothing_twice_and_lose_nothing() -> None:
    counts = overlap.run(size=25)
    report(counts)

    assert [(run.schedule, run.overlap_seconds > 0) for run in counts.runs] == [
        (overlap.Schedule.LEASE, True), (overlap.Schedule.INSTANTS, True)]
    assert [(run.schedule, run.duplicates, run.lost, run.crashed) for run in counts.runs] == [
        (overlap.Schedule.LEASE, 0, 0, 0), (overlap.Schedule.INSTANTS, 0, 0, 0)]


@pytest.mark.slow
def test_overlapping_passes_on_postgresql_send_nothing_twice_and_lose_nothing(postgres: str) -> None:
    counts = overlap.run(size=25, postgres=postgres, sqlite=False)
    report(counts)

    assert [(run.store, run.schedule, run.overlap_seconds > 0) for run in counts.runs] == [
        ("PostgreSQL", overlap.Schedule.LEASE, True), ("PostgreSQL", overlap.Schedule.INSTANTS, True)]
    assert [(run.duplicates, run.lost, run.crashed) for run in counts.runs] == [(0, 0, 0), (0, 0, 0)]


@pytest.mark.slow
def test_steps_and_deliveries_meeting_obligations_concurrently_never_deadlock(postgres: str) -> None:
    counts = deadlock.run(size=3, postgres=postgres, declarations=5)
    report(counts)

    assert counts.processes == 6
    assert counts.steps_taken > 0  # the schedule happened: deadline steps were taken beside the deliveries
    assert (counts.failed, counts.deadlock_reports, counts.duplicates) == (0, 0, 0), counts.first_failure


@pytest.mark.slow
def test_passes_killed_while_delivering_lose_nothing_and_repeat_only_messages_in_flight() -> None:
    counts = crash.run(size=30, kills=4)
    report(counts)

    assert (counts.messages, counts.kills) == (90, 4)  # per declaration: two alerts and the declarant's receipt
    assert counts.lost == 0
    assert counts.unexplained == 0  # every duplicate is of a message in flight when its pass was killed
    assert counts.failed_passes == 0


def test_four_passes_started_together_on_sqlite_send_each_of_500_messages_exactly_once() -> None:
    counts = four_passes.run(size=500, passes=4)
    report(counts)

    [run] = counts.runs
    assert run.messages >= 500 and run.received == run.messages
    assert (run.duplicates, run.lost, run.crashed) == (0, 0, 0), run.first_crash
    assert sum(1 for delivered in run.delivered_by_pass if delivered) > 1  # they did share the work
    assert run.chain_ok


@pytest.mark.slow
def test_four_passes_started_together_on_postgresql_send_each_of_500_messages_exactly_once(postgres: str) -> None:
    counts = four_passes.run(size=500, passes=4, postgres=postgres, sqlite=False)
    report(counts)

    [run] = counts.runs
    assert (run.store, run.received) == ("PostgreSQL", run.messages)
    assert (run.duplicates, run.lost, run.crashed) == (0, 0, 0), run.first_crash
    assert sum(1 for delivered in run.delivered_by_pass if delivered) > 1
    assert run.chain_ok


def test_a_pass_during_an_outage_tries_each_message_once_per_round_and_ends() -> None:
    """Sixty alerts refused by the relay while their reminders are due (which pull the alerts forward): each of the
    pass's two delivery rounds (before its deadline steps, then for their messages) tries each message once, then
    ends; it does not go round the failing alerts again and again (it did, with more than a batch of alerts)."""
    relay = Relay("trial", free_port())
    relay.mode = Mode.REFUSE
    with relay, fresh_store(**relay_env(relay)):
        declare(30, T0)
        propose_scopes(queued_incident_ids(), T0)
        result = asyncio.run(asyncio.wait_for(engine_pass_bare(T0.add(hours=30)), timeout=600))
        with read_scope() as session:
            attempts = session.exec(select(OutboxMessage.template, OutboxMessage.attempts)).all()

    assert result.steps  # the reminders were due
    assert {template for template, _ in attempts} >= {"cross_party_alert", "deadline_step"}
    assert max(count for _, count in attempts) <= 2, sorted(set(attempts))
    assert result.failed == sum(count for _, count in attempts)  # every attempt failed, and is counted once


def test_a_pass_interrupted_with_ctrl_c_records_what_the_relay_accepted() -> None:
    """Ctrl-C (SIGINT) while a pass delivers over a slow relay: the sends under way end and are recorded, nothing more
    starts and what waits is given back; no message the relay accepted is left to be sent again."""
    relay = Relay("trial", free_port(), delay=0.3)
    with relay, fresh_store(**relay_env(relay, lease_seconds=600)) as store:
        declare(20, T0)
        process = PassProcess(store, T0.add(minutes=1))
        process.release()
        wait_for_arrivals(relay, 8, process, timeout=300)
        process.process.send_signal(signal.SIGINT)
        outcome = process.finish()
        accepted = {arrival.message_id for arrival in relay.arrivals()}
        unrecorded = [message for message in stored_messages()
                      if message.message_id in accepted and message.status != "sent"]
        left_claimed = [message for message in stored_messages() if message.status == "sending"]
        pass_in_process(T0.add(minutes=2))  # the next pass sends the rest, not the lease's: nothing is held
        arrivals, after = relay.arrivals(), stored_messages()

    assert outcome.returncode != 0 and "KeyboardInterrupt" in outcome.stderr  # it was interrupted mid-pass
    assert unrecorded == [] and left_claimed == [], outcome.stderr[-3000:]
    assert sum(duplicates(arrivals).values()) == 0
    assert lost(after, arrivals) == []
