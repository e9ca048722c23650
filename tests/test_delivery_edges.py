"""What the breaker found around delivery: a relay refusing by policy is the relay's fault (retried), a message
that cannot be built does not stop the pass, a reminder to acknowledge does not follow the acknowledgement, and a
state file naming a live stranger's pid is no running service."""

import json
import subprocess

from tests.conftest import ACADEMY_ALERTS, REFERENT, TRIAGER, write_declaration
from tests.walkers import declared, obligation, shown

T0 = "2026-11-28T10:00:00+01:00"


def watch(cli, at):
    result = cli("watch", "--json", "--at", at)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def alerts(view):
    return {m["recipient"]: m for m in view["messages"] if m["template"] == "cross_party_alert"}


def test_a_relay_refusing_by_policy_is_retried_not_refused_for_good(cli, smtp, tmp_path):
    smtp.deny_relay.add(ACADEMY_ALERTS[0])  # "554 5.7.1 Relay access denied": the relay's configuration
    ref = declared(cli, tmp_path, at=T0)["ref"]
    failing = alerts(shown(cli, ref))[ACADEMY_ALERTS[0]]
    assert (failing["status"], failing["attempts"]) == ("pending", 1)

    smtp.deny_relay.clear()  # the relay's configuration is fixed
    watch(cli, "2026-11-28T10:02:00+01:00")
    assert len(smtp.to(ACADEMY_ALERTS[0])) == 1
    assert obligation(shown(cli, ref))["status"] == "met"


def test_a_message_that_cannot_be_built_fails_alone_and_the_pass_goes_on(cli, smtp, tmp_path, monkeypatch):
    broken = tmp_path / "gabarits" / "mail"
    broken.mkdir(parents=True)
    (broken / "cross_party_alert.txt.j2").write_text("{{ nothing.here }}", encoding="utf-8")
    monkeypatch.setenv("INCIDENTS_TEMPLATES_DIR", str(tmp_path / "gabarits"))
    ref = declared(cli, tmp_path, at=T0)["ref"]

    view = shown(cli, ref)
    assert {(m["status"], m["attempts"]) for m in alerts(view).values()} == {("pending", 1)}
    assert all("message impossible à composer" in m["last_error"] for m in alerts(view).values())
    # The receipt, built from its own template, left in the same pass: the broken alert failed alone.
    assert [r for mail in smtp.received for r in mail.recipients] == [REFERENT]

    monkeypatch.delenv("INCIDENTS_TEMPLATES_DIR")  # the académie fixes its template
    result = watch(cli, "2026-11-28T10:02:00+01:00")
    assert result["delivered"] == 2
    assert obligation(shown(cli, ref))["status"] == "met"


def test_a_reminder_to_acknowledge_queued_in_an_outage_does_not_follow_the_acknowledgement(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, at=T0)["ref"]  # the alert reaches the académie at once
    smtp.refuse = 10_000
    reminded = watch(cli, "2026-11-29T10:30:00+01:00")  # 24 h after delivery: the reminder is queued, not sent
    assert any(step["obligation"] == "acknowledgement" for step in reminded["steps"])
    acknowledged = cli("acknowledge", ref, "--by", TRIAGER, "--at", "2026-11-29T10:40:00+01:00")
    assert acknowledged.exit_code == 0, acknowledged.output

    smtp.refuse = 0
    watch(cli, "2026-11-29T12:00:00+01:00")
    assert smtp.to(ACADEMY_ALERTS[0], "accuser réception") == []
    reminders = [m for m in shown(cli, ref)["messages"] if m["template"] == "acknowledgement_reminder"]
    assert reminders and {m["status"] for m in reminders} == {"cancelled"}


def test_a_state_file_naming_a_strangers_live_pid_is_no_service(plain_cli, smtp, tmp_path):
    stranger = subprocess.Popen(["sleep", "120"])
    try:
        state = tmp_path / "var" / "prefect" / "server.json"
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"api_url": "http://127.0.0.1:9/api", "pid": stranger.pid,
                                     "server_pid": stranger.pid, "auth": "x"}), encoding="utf-8")
        status = plain_cli("status", "--json")
        assert json.loads(status.stdout)["service"]["running"] is False

        aware = "2026-11-28T09:30:00+01:00"
        result = plain_cli("declare", str(write_declaration(tmp_path, aware_at=aware)), "--json", "--by", REFERENT,
                           "--at", T0)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["orchestration"] == "done"
        assert sorted(r for mail in smtp.received for r in mail.recipients) == sorted([*ACADEMY_ALERTS, REFERENT])
        assert stranger.poll() is None  # a stranger's process is never signalled
        assert not state.exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_a_relay_slower_than_the_lease_gets_each_message_once_while_the_pass_renews_its_claims(
        cli, smtp, tmp_path, monkeypatch):
    # Each answer takes longer than the whole lease: only the renewals keep the claim. A renewal every quarter lease
    # must land within half a lease of the previous one, which a 2 s lease left to a 1 s stall of a loaded machine.
    monkeypatch.setenv("INCIDENTS_CLAIM_LEASE_SECONDS", "6")
    smtp.delay = 8.0
    ref = declared(cli, tmp_path, at=T0)["ref"]

    assert sorted(r for mail in smtp.received for r in mail.recipients) == sorted([*ACADEMY_ALERTS, REFERENT])
    assert {(m["status"], m["attempts"]) for m in alerts(shown(cli, ref)).values()} == {("sent", 1)}
