"""`incidents serve`: a local Prefect server as a child process (unless PREFECT_API_URL is set), then the
deployments served from this process until Ctrl-C, which stops all of it."""

import ctypes
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import IO

import typer

from cli.orchestration import server_file, service_lock_file, service_state
from settings.env import var_dir

STARTUP_TIMEOUT_SECONDS = 180
WATCHDOG_INTERVAL_SECONDS = 300
MONTHLY_REPORT_CRON = "0 7 1 * *"  # the 1st of each month at 07:00, for the month before


def _announce_checkpoint_key() -> None:
    """The key that signs the timeline's checkpoints, loaded (or created, on first run) before any pass needs it:
    its public half is what the parties keep to check the proof (README « Preuve opposable »)."""
    from models.checkpoints import signing_key
    from proof.errors import ProofError

    try:
        loaded = signing_key()
    except ProofError as error:
        typer.echo(f"Clé de signature des points de contrôle inutilisable : {error}. Corrigez INCIDENTS_CHECKPOINT_KEY "
                   "ou INCIDENTS_CHECKPOINT_KEY_FILE ; le service ne peut pas signer ses points de contrôle.",
                   err=True)
        raise typer.Exit(2) from None
    made = "créée" if loaded.created else "chargée"
    typer.echo(f"Clé de signature des points de contrôle {made} ({loaded.source}) ; clé publique à remettre aux "
               f"parties : {loaded.key.public_text()}")
    for warning in loaded.warnings:
        typer.echo(f"Attention : {warning}", err=True)


def run_service(port: int, portal_port: int) -> None:
    service_state(clean=True)  # clears what a killed service left: its state file, its orphaned Prefect server
    lock = _take_service_lock()
    server: subprocess.Popen[bytes] | None = None
    state = Path(server_file())
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # Prefect's runner takes SIGTERM over once it serves
    try:
        api_url = os.environ.get("PREFECT_API_URL")
        if not api_url:
            port = port if _port_is_free(port) else _free_port()
            api_url = f"http://127.0.0.1:{port}/api"
            typer.echo(f"Démarrage du serveur Prefect local sur {api_url} (données sous {var_dir() / 'prefect'})…")
            # Prefect's server asks no credentials by default: anyone reaching it could trigger or resume runs.
            auth = f"incidents:{secrets.token_urlsafe(24)}"
            server = _start_server(port, auth)
            _wait_until_healthy(api_url, server)
            os.environ["PREFECT_API_URL"], os.environ["PREFECT_API_AUTH_STRING"] = api_url, auth
            state.parent.mkdir(parents=True, exist_ok=True)
            _write_private(state, json.dumps({"api_url": api_url, "pid": os.getpid(), "server_pid": server.pid,
                                              "auth": auth}))
        portal = _start_portal(portal_port)
        typer.echo(f"Service prêt : déploiements intake, dispatch, breach-decision, watchdog (toutes les "
                   f"{WATCHDOG_INTERVAL_SECONDS // 60} minutes) et rapport mensuel servis depuis {api_url}.")
        typer.echo(f"Portail : {portal} (connexion par un lien envoyé par courriel). Ctrl-C pour arrêter.")
        _announce_checkpoint_key()
        _serve_deployments()
    except KeyboardInterrupt:
        pass
    finally:
        state.unlink(missing_ok=True)
        if server is not None:
            _stop(server)
        lock.close()
        typer.echo("Service arrêté.")


def _start_portal(port: int) -> str:
    from portal.server import address, start_in_thread

    start_in_thread(port)
    return address(port)


def _take_service_lock() -> IO[str]:
    """One service per var/ folder: the lock is held while the service lives and released by its death, however it
    dies. A probe of `status` or `declare` may hold it shared for an instant: asked again for a moment."""
    path = service_lock_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - held for the service's lifetime
    for _ in range(20):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            time.sleep(0.1)
    handle.close()
    running = service_state()
    where = f" (processus {running['pid']}, {running['api_url']})" if running else ""
    raise SystemExit(f"Un service tourne déjà{where} : arrêtez-le avant d'en démarrer un autre.")


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _die_with_parent() -> None:
    """In the Prefect server's process, before it starts: Linux sends it SIGTERM when the service dies, even by
    kill -9, so that no server outlives its service."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _serve_deployments() -> None:
    from prefect import serve
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron

    import flows  # noqa: F401  (Prefect's environment defaults, before Prefect itself)
    from flows.breach import breach_decision
    from flows.engine import engine_pass
    from flows.intake import dispatch, intake
    from flows.reporting import steering_report

    deployments: list[RunnerDeployment] = [
        # paused=False: serving again resumes what the last Ctrl-C paused.
        intake.to_deployment(name="intake", tags=["intake"], paused=False),  # type: ignore[list-item]
        dispatch.to_deployment(name="dispatch", tags=["dispatch"], paused=False),  # type: ignore[list-item]
        engine_pass.to_deployment(name="watchdog", interval=WATCHDOG_INTERVAL_SECONDS,  # type: ignore[list-item]
                                  tags=["watchdog"], paused=False),
        breach_decision.to_deployment(name="breach-decision", tags=["breach"], paused=False),  # type: ignore[list-item]
        steering_report.to_deployment(name="monthly", tags=["reports"], paused=False,  # type: ignore[list-item]
                                      schedules=[Cron(MONTHLY_REPORT_CRON, timezone="Europe/Paris")]),
    ]
    serve(
        *deployments,
        print_starting_message=False,
        query_seconds=2,  # a declaration's alert should not wait Prefect's default 10 s poll
    )


def _write_private(path: Path, text: str) -> None:
    """Readable by this account only: it holds the Prefect server's credentials."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _start_server(port: int, auth: str) -> subprocess.Popen[bytes]:
    home = var_dir() / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_API_AUTH_STRING": auth,
    }
    env.pop("PREFECT_API_URL", None)
    prefect = Path(sys.executable).parent / "prefect"
    log = open(home / "server.log", "ab")  # noqa: SIM115 - the child keeps it open for its lifetime
    return subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def _wait_until_healthy(api_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"Le serveur Prefect s'est arrêté au démarrage (code {server.returncode}) ; "
                             f"voir {var_dir() / 'prefect' / 'server.log'}.")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    _stop(server)
    raise SystemExit(f"Le serveur Prefect n'a pas répondu en {STARTUP_TIMEOUT_SECONDS} s.")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
