"""Handing work to Prefect, truthfully: trigger a deployment only when a live served process polls it; with a
Prefect server but nobody serving, run the flow in this process; with no service at all, do the work here without
orchestration (never start a temporary Prefect server on the service's database, where a deployment left by a
stopped service would swallow the run).

Any failure leaves the work in the store, where the next engine pass (`incidents watch`) picks it up.

Every command module imports this one: asyncio, the REST client and Prefect are imported where they are used (see
cli/app.py on start-up).
"""

import fcntl
import json
import os
import signal
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from models.errors import cause
from settings.env import var_dir


class Handover(StrEnum):
    TRIGGERED = "triggered"  # a served deployment, polled by a live process, will run it shortly
    DONE = "done"  # ran here (through Prefect if a server answers, else without it)
    QUEUED = "queued"  # orchestration unavailable: the next engine pass will do it


def server_file() -> str:
    return str(var_dir() / "prefect" / "server.json")


def service_lock_file() -> Path:
    return var_dir() / "prefect" / "service.lock"


def service_runs() -> bool:
    """Whether an `incidents serve` holds the service lock: a lock dies with its process, whatever reuses its pid."""
    path = service_lock_file()
    if not path.exists():
        return False
    with open(path, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def service_state(clean: bool = False) -> dict[str, Any] | None:
    """The state `incidents serve` wrote, if that service still runs. A state left by a service that died (kill -9)
    is removed; with `clean` (the next `serve`), the Prefect server it started is stopped if it outlived it."""
    path = Path(server_file())
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    if service_runs():
        return state
    if clean:
        stop_orphaned_server(state.get("server_pid"))
    path.unlink(missing_ok=True)
    return None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def stop_orphaned_server(server_pid: object) -> None:
    """Stop the process group of a Prefect server whose service is gone, after checking that the pid is still that
    server: a Prefect server whose home is this var/ folder's (a recycled pid, another folder's server or an
    operator's own is left alone)."""
    if not isinstance(server_pid, int) or not process_alive(server_pid):
        return
    try:
        command_line = Path(f"/proc/{server_pid}/cmdline").read_bytes().split(b"\0")
        environment = Path(f"/proc/{server_pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return
    home = f"PREFECT_HOME={var_dir() / 'prefect'}".encode()
    if b"server" not in command_line or home not in environment or os.getpgid(server_pid) != server_pid:
        return
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server_pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not process_alive(server_pid):
                return
            time.sleep(0.1)


def use_served_api() -> bool:
    """Point Prefect at the server `incidents serve` started, when no PREFECT_API_URL is set; False when there is
    no Prefect server to talk to."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    state = service_state()
    if state is None:
        return False
    os.environ["PREFECT_API_URL"] = str(state["api_url"])
    if state.get("auth"):
        os.environ["PREFECT_API_AUTH_STRING"] = str(state["auth"])
    return True


def hand_over(flow_name: str, incident_id: int, ref: str, at: str | None) -> Handover:
    import asyncio

    if not use_served_api():
        _run_here(flow_name, incident_id, at)
        return Handover.DONE
    try:
        if _trigger_served(flow_name, incident_id, ref, at):
            return Handover.TRIGGERED
        return asyncio.run(_run_through_prefect(flow_name, incident_id, ref, at))  # nobody serves it: run it here
    except Exception as error:  # noqa: BLE001 - the store holds the work; orchestration is retried later
        typer.echo(f"Orchestration indisponible ({cause(error)}).", err=True)
        return Handover.QUEUED


def quiet_prefect_console() -> None:
    """A command that runs a flow itself says in French what it does; Prefect's English progress lines on the
    terminal would drown that (its server keeps the run's logs all the same). Before Prefect is first imported; an
    explicit setting wins."""
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


def _run_here(flow_name: str, incident_id: int, at: str | None) -> None:
    """No service runs: the same work as the flow, in this process, without orchestration."""
    import asyncio

    from flows import steps

    typer.echo("Aucun service en marche : le travail est fait par cette commande, sans orchestration.", err=True)
    now = steps.resolve_instant(at)
    if flow_name == "intake":
        steps.propose_scopes([incident_id], now)
    asyncio.run(steps.deliver_due(now, incident_id))


def _trigger_served(flow_name: str, incident_id: int, ref: str, at: str | None) -> bool:
    """Start the deployment `flow_name/flow_name` when a live process serves it (a run it picks up within seconds);
    False when nobody serves it. Through Prefect's REST API: the command returns without importing Prefect."""
    from cli import prefect_api

    state = service_state()  # this machine's service serves every deployment on the server it started
    served_here = state is not None and str(state["api_url"]) == os.environ.get("PREFECT_API_URL")
    deployment = prefect_api.live_deployment(flow_name, flow_name, served_here)
    if deployment is None:
        return False
    prefect_api.create_flow_run(str(deployment["id"]), {"incident_id": incident_id, "at": at},
                                name=f"{flow_name}-{ref}", tags=[ref])
    return True


async def _run_through_prefect(flow_name: str, incident_id: int, ref: str, at: str | None) -> Handover:
    typer.echo("Aucun service ni worker ne prend ce travail en ce moment : il est fait par cette commande, suivi par "
               "le serveur Prefect.", err=True)
    quiet_prefect_console()
    from prefect import tags

    import flows  # noqa: F401  (Prefect's environment defaults, before Prefect itself)
    from flows.intake import dispatch, intake

    flow = {"intake": intake, "dispatch": dispatch}[flow_name]
    with tags(ref, flow_name):
        await flow.with_options(flow_run_name=f"{flow_name}-{ref}")(incident_id=incident_id, at=at)
    return Handover.DONE


def trigger_if_served(flow_name: str, incident_id: int, ref: str, at: str | None) -> bool:
    """Start a served deployment that waits (the DPD's decision form); never run it here, it would block."""
    if not use_served_api():
        return False
    try:
        return _trigger_served(flow_name, incident_id, ref, at)
    except Exception:  # noqa: BLE001 - optional: the CLI decision stands alone
        return False


def resume_paused_decision(ref: str, decision_id: int) -> int:
    """Resume the incident's paused breach-decision runs with the id of the decision just recorded (nothing else)."""
    import asyncio

    if not use_served_api():
        return 0
    try:
        return asyncio.run(_resume(ref, {"decision_id": decision_id}))
    except Exception:  # noqa: BLE001 - the decision is recorded; a waiting run times out on its own
        return 0


async def _resume(ref: str, run_input: dict[str, object]) -> int:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import aresume_flow_run

    import flows  # noqa: F401  (Prefect's environment defaults, before Prefect itself)

    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["breach-decision"])),
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[ref]), state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))
    for run in runs:
        for _ in range(20):  # Prefect refuses a resume that comes before the pause's input form is stored
            try:
                await aresume_flow_run(run.id, run_input=run_input)
                break
            except RuntimeError:
                await asyncio.sleep(0.5)
    return len(runs)
