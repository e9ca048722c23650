"""The store is the truth: a declaration survives a killed process or absent orchestration, and is alerted once."""

import json
import sqlite3
import threading

import pendulum
import pytest

from tests.conftest import ACADEMY_ALERTS, REFERENT, free_port, write_declaration
from tests.store_probe import row_counts
from tests.subprocess_cli import run, start
from tests.walkers import obligation, shown


def claims_expired(store):
    """No message is held any more by a claim whose lease runs on (the wall clock, as the engine reads it)."""
    with sqlite3.connect(store) as connection:
        held = connection.execute("SELECT claimed_until FROM outbox_message WHERE status = 'sending'").fetchall()
    return all(pendulum.parse(until) < pendulum.now("UTC") for (until,) in held if until)


def let_the_leases_run_out(store):
    """What the wall clock does to a dead process's claims once their lease has passed, done at once: no test waits
    for a clock, and no lease short enough to wait for is at the mercy of a slow minute before it runs out."""
    past = pendulum.now("UTC").subtract(seconds=1).naive().isoformat(" ", "microseconds")
    with sqlite3.connect(store) as connection:
        connection.execute("UPDATE outbox_message SET claimed_until = ? WHERE status = 'sending'", (past,))


@pytest.mark.slow
def test_killed_between_commit_and_delivery_then_run_again_delivers_exactly_once(cli, smtp, store, tmp_path,
                                                                                  prefect_api, monkeypatch):
    monkeypatch.setenv("INCIDENTS_CLAIM_LEASE_SECONDS", "600")  # how long a dead process's claims block others
    smtp.hold, smtp.held = True, threading.Event()
    declaration = write_declaration(tmp_path)
    process = start("declare", str(declaration), "--by", REFERENT, "--at", "2026-11-28T10:00:00+01:00",
                    PREFECT_API_URL=prefect_api)
    try:
        assert smtp.held.wait(90), "the declaring process never reached the SMTP server"
    finally:
        process.kill()
        process.wait()
    smtp.hold = False

    assert row_counts(store)["incident"] == 1  # committed before the process died
    assert smtp.received == []
    ref = "INC-2026-0001"
    assert obligation(shown(cli, ref, at="2026-11-28T10:05:00+01:00"))["status"] == "open"  # not today's date

    # The interrupted attempt holds its claim for a lease on the wall clock, whatever the replay instant: a pass
    # before it runs out leaves the message alone; a pass after it takes the message over.
    assert not claims_expired(store)
    early = json.loads(cli("watch", "--json", "--at", "2026-11-28T10:05:00+01:00").stdout)
    assert (early["delivered"], early["failed"]) == (0, 0)
    let_the_leases_run_out(store)
    assert claims_expired(store)
    first = cli("watch", "--json", "--at", "2026-11-28T10:10:00+01:00")
    second = cli("watch", "--json", "--at", "2026-11-28T10:20:00+01:00")

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    for address in ACADEMY_ALERTS:
        assert len(smtp.to(address)) == 1
    alert = obligation(shown(cli, ref))
    assert (alert["status"], alert["met_at"]) == ("met", "2026-11-28T10:10:00+01:00")


def test_with_orchestration_unavailable_the_incident_stays_queued_and_a_later_pass_delivers_it(
        cli, smtp, store, tmp_path):
    dead_api = f"http://127.0.0.1:{free_port()}/api"
    result = run("declare", str(write_declaration(tmp_path)), "--by", REFERENT, "--at", "2026-11-28T10:00:00+01:00",
                 PREFECT_API_URL=dead_api)

    assert result.returncode == 0, result.stderr
    assert "Incident enregistré : INC-2026-0001" in result.stdout
    assert "il reste en file" in result.stdout
    assert "Traceback" not in result.stderr
    assert smtp.received == []
    assert shown(cli, "INC-2026-0001")["scope_status"] is None

    first, second = (json.loads(cli("watch", "--json", "--at", "2026-11-28T10:05:00+01:00").stdout) for _ in range(2))

    assert (first["taken_in"], first["delivered"]) == (["INC-2026-0001"], 3)  # two alerts and the receipt
    assert (second["taken_in"], second["delivered"]) == ([], 0)
    assert sorted(address for mail in smtp.received for address in mail.recipients) == sorted([*ACADEMY_ALERTS,
                                                                                               REFERENT])
    assert obligation(shown(cli, "INC-2026-0001"))["status"] == "met"
