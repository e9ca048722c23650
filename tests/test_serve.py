"""`incidents serve` from a fresh store with no other set-up: it starts a real local Prefect server, serves the
deployments, a declaration made meanwhile gets its alert delivered with no other command, a breach's decision flow
pauses for the DPD and resumes through Prefect's API, and Ctrl-C stops it all."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request

import pendulum
import yaml

from tests.conftest import ACADEMY_ALERTS, free_port, write_declaration
from tests.subprocess_cli import INCIDENTS
from tests.test_breach_decision import ASSESSMENT, BREACH, DPD

STARTUP_SECONDS = 150


def wait_for(predicate, seconds, what):
    """Poll for work another process does on its own; this waits for an event, never for a deadline."""
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def deployment_exists(api_url, name):
    try:
        with urllib.request.urlopen(f"{api_url}/deployments/name/{name}", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def port_open(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def api(api_url, path, body):
    request = urllib.request.Request(f"{api_url}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


def decide_through_prefect(api_url, env, store, tmp_path):
    """A breach assessed while served starts the decision flow, which pauses for the DPD's typed input; resuming it
    through Prefect's API with that input records the decision in the store."""
    aware = pendulum.now("Europe/Paris").subtract(hours=1).isoformat()
    breach = write_declaration(tmp_path, "breach.yaml", aware_at=aware, **BREACH)
    declared = subprocess.run([INCIDENTS, "declare", str(breach)], env=env, capture_output=True, text=True,
                              timeout=60)
    ref = declared.stdout.split("Incident enregistré : ")[1].split()[0]
    document = tmp_path / "assessment.yaml"
    document.write_text(yaml.safe_dump(ASSESSMENT, allow_unicode=True), encoding="utf-8")
    assessed = subprocess.run([INCIDENTS, "assess", ref, "--file", str(document)], env=env, capture_output=True,
                              text=True, timeout=60)
    assert "Le formulaire de décision du DPD attend dans l'interface Prefect." in assessed.stdout, assessed.stderr

    paused_filter = {"flow_runs": {"tags": {"all_": [ref]}, "state": {"type": {"any_": ["PAUSED"]}}}}
    wait_for(lambda: api(api_url, "/flow_runs/filter", paused_filter), 90, "the paused decision flow")
    [run] = api(api_url, "/flow_runs/filter", paused_filter)
    assert run["name"] == f"breach-decision-{ref}"
    answer = {"cnil": "yes", "subjects": "yes", "by": DPD}
    assert api(api_url, f"/flow_runs/{run['id']}/resume", {"run_input": answer})["status"] == "ACCEPT"

    def decided():
        with sqlite3.connect(store) as connection:
            return connection.execute("SELECT decided_by, notify_cnil FROM breach_decision").fetchall()

    wait_for(decided, 90, "the decision in the store")
    assert decided() == [(DPD, 1)]


def test_serve_runs_the_service_and_delivers_a_declaration_alert_without_another_command(smtp, store, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    port = free_port()
    service = subprocess.Popen([INCIDENTS, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: deployment_exists(api_url, "intake/intake") or service.poll() is not None,
                 STARTUP_SECONDS, "the served intake deployment")
        assert service.poll() is None, service.stdout.read() if service.stdout else ""
        assert deployment_exists(api_url, "engine-pass/watchdog")
        state = json.loads((tmp_path / "var" / "prefect" / "server.json").read_text())
        assert state["api_url"] == api_url

        started = time.monotonic()
        declared = subprocess.run([INCIDENTS, "declare", str(write_declaration(tmp_path))], env=env,
                                  capture_output=True, text=True, timeout=60)
        assert declared.returncode == 0, declared.stderr
        assert "Remise confiée au service Prefect en cours d'exécution." in declared.stdout
        assert time.monotonic() - started < 30  # returns at once, without waiting for delivery

        wait_for(lambda: len(smtp.received) >= len(ACADEMY_ALERTS), 90, "the alert mails")
        assert sorted(r for mail in smtp.received for r in mail.recipients) == sorted(ACADEMY_ALERTS)

        decide_through_prefect(api_url, env, store, tmp_path)
    finally:
        service.send_signal(signal.SIGINT)
        output, _ = service.communicate(timeout=60)
    assert service.returncode == 0, output
    assert "Service arrêté." in output
    assert not port_open(port)
    assert not (tmp_path / "var" / "prefect" / "server.json").exists()
