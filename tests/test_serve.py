"""`incidents serve` from a fresh store with no other set-up: it starts a real local Prefect server, serves the
deployments, a declaration made meanwhile gets its alert delivered with no other command, and Ctrl-C stops it all."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

from tests.conftest import ACADEMY_ALERTS, free_port, write_declaration
from tests.subprocess_cli import INCIDENTS

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


def test_serve_runs_the_service_and_delivers_a_declaration_alert_without_another_command(smtp, tmp_path):
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
    finally:
        service.send_signal(signal.SIGINT)
        output, _ = service.communicate(timeout=60)
    assert service.returncode == 0, output
    assert "Service arrêté." in output
    assert not port_open(port)
    assert not (tmp_path / "var" / "prefect" / "server.json").exists()
