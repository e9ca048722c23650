"""`incidents status`, what an operator checks first, and the pass it reports on: a real register's pass through
Prefect runs as of now (no replay), is logged, and status reads it back with the queue, the outbox and the clocks."""

import json

import pendulum
import pytest

from tests.conftest import AUDITOR, REFERENT, write_declaration


def status(cli, *args):
    result = cli("status", "--json", *args)
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.real_store
def test_a_served_pass_on_a_real_register_runs_as_of_now_and_status_reports_it(cli, smtp, tmp_path):
    code, before = status(cli)
    assert before["last_pass"] is None and code == 3
    assert "aucune passe du moteur n'a encore eu lieu" in before["attention"]

    aware = pendulum.now("Europe/Paris").subtract(hours=1).isoformat()
    declared = cli("declare", str(write_declaration(tmp_path, aware_at=aware)), "--by", REFERENT)
    assert declared.exit_code == 0, declared.output
    passed = cli("watch", "--json")  # through Prefect (the session's server), as the served watchdog runs it
    assert passed.exit_code == 0, passed.output
    assert "passe faite directement" not in passed.output

    code, after = status(cli)
    last = after["last_pass"]
    assert (last["outcome"], last["error"]) == ("ok", None)
    assert last["seconds_ago"] < 120
    assert abs(pendulum.parse(last["replay_at"]) - pendulum.parse(last["finished_at"])).total_seconds() < 120
    assert (after["queued_incidents"], after["undelivered_messages"], after["failing_messages"]) == (0, 0, 0)
    assert after["overdue_obligations"] == 0


def test_status_shows_a_failing_relay_the_oldest_undelivered_message_and_overdue_clocks(cli, smtp, tmp_path):
    smtp.refuse = 10_000
    declared = cli("declare", str(write_declaration(tmp_path)), "--by", REFERENT, "--at", "2026-11-28T10:00:00+01:00")
    assert declared.exit_code == 0, declared.output

    code, view = status(cli, "--at", "2026-12-01T10:00:00+01:00")  # after the 48 hours

    assert code == 3
    assert (view["undelivered_messages"], view["failing_messages"]) == (3, 3)  # two alerts and the receipt
    assert "451" in view["last_delivery_error"]
    assert view["oldest_undelivered_seconds"] is not None
    assert view["overdue_obligations"] == 1
    assert "3 messages en échec de remise (le relais répond-il ?)" in view["attention"]
    text = cli("status", "--at", "2026-12-01T10:00:00+01:00")
    assert "Messages non remis : 3 (le plus ancien attend depuis" in text.stdout
    assert "Obligations à l'échéance dépassée : 1" in text.stdout


def test_status_is_the_academys(cli):
    refused = cli("status", "--by", REFERENT)
    assert refused.exit_code == 1
    assert "réservé aux personnes de l'académie" in refused.stderr
    assert cli("status", "--by", AUDITOR).exit_code in (0, 3)
