"""`incidents serve` from a fresh store with no other set-up: it starts a real local Prefect server that asks for
credentials, serves the deployments, a declaration made meanwhile gets its alert delivered with no other command, a
breach's decision flow waits for the DPD's decision made through the door (a forged resume is ignored), nothing
personal lands in Prefect's database, and Ctrl-C stops it all."""

import base64
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pendulum
import pytest
import yaml

from tests.conftest import ACADEMY_ALERTS, BASE_DECLARATION, REFERENT, free_port, write_declaration
from tests.subprocess_cli import INCIDENTS
from tests.test_breach_decision import ASSESSMENT, BREACH, DPD

pytestmark = pytest.mark.slow

RATIONALE = "Journaux analysés par Mme Martin : consultation de 14 dossiers d'élèves de CM2."

STARTUP_SECONDS = 150


def wait_for(predicate, seconds, what):
    """Poll for work another process does on its own; this waits for an event, never for a deadline."""
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        try:
            if predicate():
                return
        except urllib.error.HTTPError as error:
            # A loaded Prefect server answers 503 for a moment (its database busy): not an answer, ask again.
            if error.code < 500:
                raise
        except (urllib.error.URLError, TimeoutError):
            pass  # nor is a read that timed out on a loaded server
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


CREDENTIALS: dict[str, str] = {}


def _headers():
    token = base64.b64encode(CREDENTIALS["auth"].encode()).decode()
    return {"Content-Type": "application/json", "Authorization": f"Basic {token}"}


def deployment_exists(api_url, name):
    try:
        request = urllib.request.Request(f"{api_url}/deployments/name/{name}", headers=_headers())
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (OSError, KeyError):
        return False


def deployment_polled(api_url, name):
    """Served: the service's runner has polled it, so a run triggered now will be picked up."""
    try:
        request = urllib.request.Request(f"{api_url}/deployments/name/{name}", headers=_headers())
        with urllib.request.urlopen(request, timeout=2) as response:
            return json.loads(response.read()).get("last_polled") is not None
    except (OSError, KeyError, ValueError):
        return False


def port_open(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def api(api_url, path, body):
    request = urllib.request.Request(f"{api_url}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers=_headers())
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def decide_through_the_door(api_url, env, store, tmp_path):
    """A breach assessed while served starts the decision flow, which waits; a forged resume through Prefect's API
    decides nothing; the DPD's decision through the door resumes it with the decision's id, and the flow ends."""
    aware = pendulum.now("Europe/Paris").subtract(hours=1).isoformat()
    breach = write_declaration(tmp_path, "breach.yaml", aware_at=aware, **BREACH)
    declared = subprocess.run([INCIDENTS, "declare", str(breach), "--by", REFERENT], env=env, capture_output=True,
                              text=True, timeout=60)
    ref = declared.stdout.split("Incident enregistré : ")[1].split()[0]
    document = tmp_path / "assessment.yaml"
    document.write_text(yaml.safe_dump(ASSESSMENT, allow_unicode=True), encoding="utf-8")
    assessed = subprocess.run([INCIDENTS, "assess", ref, "--file", str(document), "--by", DPD], env=env,
                              capture_output=True, text=True, timeout=60)
    assert "attend la décision du DPD" in assessed.stdout, assessed.stderr

    paused_filter = {"flow_runs": {"tags": {"all_": [ref]}, "state": {"type": {"any_": ["PAUSED"]}}}}
    runs: list[dict] = []

    def paused() -> bool:
        runs[:] = api(api_url, "/flow_runs/filter", paused_filter)
        return bool(runs)

    wait_for(paused, 90, "the paused decision flow")
    [run] = runs
    assert run["name"] == f"breach-decision-{ref}"
    # Whoever reaches Prefect with its credentials still cannot decide: a decision is the DPD's, through the door.
    # Prefect may refuse a resume that comes before the pause's input form is stored: ask until it accepts.
    forged = {"run_input": {"decision_id": 4242}}
    wait_for(lambda: api(api_url, f"/flow_runs/{run['id']}/resume", forged)["status"] == "ACCEPT", 30,
             "Prefect to accept the resume")
    wait_for(lambda: api(api_url, "/flow_runs/filter", paused_filter), 60, "the flow to wait again")

    def decided():
        with sqlite3.connect(store) as connection:
            return connection.execute("SELECT decided_by, notify_cnil FROM breach_decision").fetchall()

    assert decided() == []
    decision = subprocess.run([INCIDENTS, "decide", ref, "--cnil", "yes", "--subjects", "no", "--by", DPD,
                               "--rationale", RATIONALE], env=env, capture_output=True, text=True, timeout=60)
    assert decision.returncode == 0, decision.stderr
    assert decided() == [(DPD, 1)]
    done = {"flow_runs": {"id": {"any_": [run["id"]]}, "state": {"type": {"any_": ["COMPLETED"]}}}}
    wait_for(lambda: api(api_url, "/flow_runs/filter", done), 90, "the decision flow to complete")


def prefect_files_mention(home, *texts):
    """Every text among `texts` found in the bytes of Prefect's own files (its database, its WAL, its logs)."""
    found = set()
    for path in home.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found |= {text for text in texts if text.encode("utf-8") in content}
    return found


def test_serve_runs_the_service_and_delivers_a_declaration_alert_without_another_command(smtp, store, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    port, portal_port = free_port(), free_port()
    service = subprocess.Popen([INCIDENTS, "serve", "--port", str(port), "--portal-port", str(portal_port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        state_file = tmp_path / "var" / "prefect" / "server.json"
        wait_for(lambda: state_file.exists() or service.poll() is not None, STARTUP_SECONDS, "the server's state file")
        assert service.poll() is None, service.stdout.read() if service.stdout else ""
        state = json.loads(state_file.read_text())
        assert state["api_url"] == api_url
        assert state_file.stat().st_mode & 0o077 == 0  # the credentials are the service account's alone
        CREDENTIALS["auth"] = state["auth"]
        wait_for(lambda: deployment_exists(api_url, "intake/intake") or service.poll() is not None,
                 STARTUP_SECONDS, "the served intake deployment")
        assert service.poll() is None, service.stdout.read() if service.stdout else ""
        wait_for(lambda: deployment_exists(api_url, "engine-pass/watchdog"), 60, "the watchdog deployment")
        wait_for(lambda: deployment_polled(api_url, "intake/intake"), 60, "the service to poll its deployments")
        try:
            urllib.request.urlopen(f"{api_url}/deployments/name/intake/intake", timeout=5)
            raise AssertionError("Prefect's API answered without credentials")
        except urllib.error.HTTPError as error:
            assert error.code == 401

        started = time.monotonic()
        declared = subprocess.run([INCIDENTS, "declare", str(write_declaration(tmp_path)), "--by", REFERENT],
                                  env=env, capture_output=True, text=True, timeout=60)
        assert declared.returncode == 0, declared.stderr
        assert "Remise confiée au service Prefect en cours d'exécution." in declared.stdout
        assert time.monotonic() - started < 120  # returns without waiting for delivery (the line above says so)

        wait_for(lambda: len(smtp.received) >= len(ACADEMY_ALERTS) + 1, 90, "the alert mails and the receipt")
        assert sorted(r for mail in smtp.received for r in mail.recipients) == sorted([*ACADEMY_ALERTS, REFERENT])

        # The portal is served by the same service, beside Prefect, with its security headers.
        with urllib.request.urlopen(f"http://127.0.0.1:{portal_port}/connexion", timeout=10) as page:
            assert page.status == 200
            assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
            assert "Recevoir un lien de connexion" in page.read().decode("utf-8")

        decide_through_the_door(api_url, env, store, tmp_path)
    finally:
        service.send_signal(signal.SIGINT)
        output, _ = service.communicate(timeout=180)
    personal = (RATIONALE, DPD, REFERENT, BASE_DECLARATION["title"], BREACH.get("title", BASE_DECLARATION["title"]))
    assert prefect_files_mention(tmp_path / "var" / "prefect", *personal) == set()
    assert service.returncode == 0, output
    assert "Service arrêté." in output
    assert f"Portail : http://127.0.0.1:{portal_port}" in output
    assert not port_open(port)
    assert not port_open(portal_port)
    assert not (tmp_path / "var" / "prefect" / "server.json").exists()
