"""Hand-over trial: `incidents serve` started, then stopped (SIGTERM, or kill -9), then a declaration made with no
service: its alert is delivered by the command itself, or the command says it stays queued and `incidents status`
shows it; the service's Prefect server does not outlive it, and no state file says a dead service runs.

    uv run python -m trials.handover [--signal term|kill]
"""

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
import yaml

from cli.orchestration import process_alive
from trials.common import environment, fresh_store, relay_env, report
from trials.postgres import free_port
from trials.relay import Relay, TrialTimeout, wait_until

ROOT = Path(__file__).resolve().parents[1]
INCIDENTS = str(Path(sys.executable).parent / "incidents")
REFERENT = "referent-ent@villers-les-exemple.example.org"
AUDITOR = "audit-ent@ac-nancy-metz.example.org"
ALERT_RECIPIENTS = 2  # the académie's alert contacts for commune 54999
STARTUP_SECONDS = 180
SIGNALS = {"term": signal.SIGTERM, "kill": signal.SIGKILL}


@dataclass(frozen=True)
class HandoverCounts:
    stop: str
    service_exit: int | None
    server_outlived_service: bool
    state_file_left: bool
    declare_exit: int
    orchestration: str  # what `declare --json` said it did: done, triggered, queued
    alerts_delivered: int
    queued_in_status: int

    @property
    def holds(self) -> bool:
        told_the_truth = (self.orchestration == "done" and self.alerts_delivered == ALERT_RECIPIENTS) or (
            self.orchestration == "queued" and self.queued_in_status == 1)
        return (self.declare_exit == 0 and told_the_truth and not self.server_outlived_service
                and not self.state_file_left)

    def lines(self) -> list[str]:
        return [f"arrêt du service : {self.stop} (code de sortie {self.service_exit})",
                f"serveur Prefect survivant au service : {'oui' if self.server_outlived_service else 'non'}",
                f"fichier d'état laissé : {'oui' if self.state_file_left else 'non'}",
                f"declare : code {self.declare_exit}, remise « {self.orchestration} »",
                f"alertes remises : {self.alerts_delivered} sur {ALERT_RECIPIENTS}",
                f"incidents en file selon status : {self.queued_in_status}"]


def _deployment(api_url: str, auth: str, name: str) -> dict[str, Any] | None:
    token = base64.b64encode(auth.encode()).decode()
    request = urllib.request.Request(f"{api_url}/deployments/name/{name}", headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            found: dict[str, Any] = json.loads(response.read())
            return found
    except (OSError, ValueError):
        return None


def _polled(api_url: str, auth: str) -> bool:
    deployment = _deployment(api_url, auth, "intake/intake")
    return deployment is not None and deployment.get("last_polled") is not None


def _declaration(folder: Path) -> Path:
    document = yaml.safe_load((ROOT / "examples" / "declaration.yaml").read_text(encoding="utf-8"))
    document["aware_at"] = pendulum.now("Europe/Paris").subtract(hours=1).isoformat()
    document.pop("occurred_at", None)
    path = folder / "declaration.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def run(stop: str = "term") -> HandoverCounts:
    relay = Relay("principal", free_port())
    relay.start()
    try:
        with fresh_store(**relay_env(relay)) as store:
            # The service as a newcomer starts it: no Prefect setting of ours; the store a real register.
            env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
            service = subprocess.Popen([INCIDENTS, "serve", "--port", str(free_port())], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            state_file = store.folder / "var" / "prefect" / "server.json"
            wait_until(lambda: state_file.exists() or service.poll() is not None, STARTUP_SECONDS,
                       "the service's state file", poll=0.5)
            state = json.loads(state_file.read_text(encoding="utf-8"))
            wait_until(lambda: _polled(state["api_url"], state["auth"]) or service.poll() is not None,
                       STARTUP_SECONDS, "the service to poll its intake deployment", poll=0.5)
            service.send_signal(SIGNALS[stop])
            exit_code = service.wait(timeout=90)
            # A Prefect server that outlives its service is an orphan: it is given time to go, never more.
            with contextlib.suppress(TrialTimeout):
                wait_until(lambda: not process_alive(int(state["server_pid"])), 30, "the Prefect server to stop",
                           poll=0.2)
            outlived = process_alive(int(state["server_pid"]))
            with environment(PREFECT_API_URL=None, PREFECT_API_AUTH_STRING=None):
                declared = subprocess.run([INCIDENTS, "declare", str(_declaration(store.folder)), "--json", "--by",
                                           REFERENT], env=env, capture_output=True, text=True, timeout=120)
                orchestration = json.loads(declared.stdout)["orchestration"] if declared.returncode == 0 else "?"
                status = subprocess.run([INCIDENTS, "status", "--json", "--by", AUDITOR], env=env,
                                        capture_output=True, text=True, timeout=60)
            # status exits 3 when something needs attention (the service is stopped, here): its answer still stands.
            queued = json.loads(status.stdout)["queued_incidents"] if status.returncode in (0, 3) else -1
            outlived = outlived or process_alive(int(state["server_pid"]))
            return HandoverCounts(stop=stop, service_exit=exit_code, server_outlived_service=outlived,
                                  state_file_left=state_file.exists(), declare_exit=declared.returncode,
                                  orchestration=orchestration, alerts_delivered=sum(1 for arrival in relay.arrivals()
                                                                       if arrival.template == "cross_party_alert"),
                                  queued_in_status=queued)
    finally:
        relay.stop()


def main() -> None:
    import argparse

    arguments = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("--signal", choices=sorted(SIGNALS), default="term", help="how the service is stopped")
    raise SystemExit(report(run(arguments.parse_args().signal)))


if __name__ == "__main__":
    main()
