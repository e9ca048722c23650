"""Handing work to Prefect: trigger a served deployment if there is one, else run the flow in this process.

Any failure leaves the work in the store, where the next engine pass (`incidents watch`) picks it up.
"""

import asyncio
import json
import os
from enum import StrEnum

import typer

from settings.env import var_dir


class Handover(StrEnum):
    TRIGGERED = "triggered"  # a served deployment will run it shortly
    DONE = "done"  # ran here, through Prefect
    QUEUED = "queued"  # orchestration unavailable: the next engine pass will do it


def server_file() -> str:
    return str(var_dir() / "prefect" / "server.json")


def use_served_api() -> None:
    """Point Prefect at the server `incidents serve` started, when no PREFECT_API_URL is set."""
    if os.environ.get("PREFECT_API_URL"):
        return
    try:
        with open(server_file(), encoding="utf-8") as handle:
            state = json.load(handle)
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return
    os.environ["PREFECT_API_URL"] = str(state["api_url"])
    if state.get("auth"):
        os.environ["PREFECT_API_AUTH_STRING"] = str(state["auth"])


def hand_over(flow_name: str, incident_id: int, ref: str, at: str | None) -> Handover:
    use_served_api()
    try:
        return asyncio.run(_hand_over(flow_name, incident_id, ref, at))
    except Exception as error:  # noqa: BLE001 - the store holds the work; orchestration is retried later
        typer.echo(f"Orchestration indisponible ({type(error).__name__}).", err=True)
        return Handover.QUEUED


async def _hand_over(flow_name: str, incident_id: int, ref: str, at: str | None) -> Handover:
    from prefect import tags
    from prefect.deployments import arun_deployment
    from prefect.exceptions import ObjectNotFound

    import flows  # noqa: F401  (Prefect's environment defaults, before Prefect itself)
    from flows.intake import dispatch, intake

    parameters = {"incident_id": incident_id, "at": at}
    run_name = f"{flow_name}-{ref}"
    try:
        await arun_deployment(f"{flow_name}/{flow_name}", parameters=parameters, timeout=0, tags=[ref],
                              flow_run_name=run_name, as_subflow=False)
        return Handover.TRIGGERED
    except ObjectNotFound:
        pass  # nothing served: run it here
    flow = {"intake": intake, "dispatch": dispatch}[flow_name]
    with tags(ref, flow_name):
        await flow.with_options(flow_run_name=run_name)(incident_id=incident_id, at=at)
    return Handover.DONE


def trigger_if_served(flow_name: str, incident_id: int, ref: str, at: str | None) -> bool:
    """Start a served deployment that waits (the DPD's decision form); never run it here, it would block."""
    use_served_api()
    if not os.environ.get("PREFECT_API_URL"):
        return False
    try:
        return asyncio.run(_trigger(flow_name, incident_id, ref, at))
    except Exception:  # noqa: BLE001 - optional: the CLI decision stands alone
        return False


async def _trigger(flow_name: str, incident_id: int, ref: str, at: str | None) -> bool:
    from prefect.deployments import arun_deployment
    from prefect.exceptions import ObjectNotFound

    import flows  # noqa: F401  (Prefect's environment defaults, before Prefect itself)

    try:
        await arun_deployment(f"{flow_name}/{flow_name}", parameters={"incident_id": incident_id, "at": at},
                              timeout=0, tags=[ref], flow_run_name=f"{flow_name}-{ref}", as_subflow=False)
    except ObjectNotFound:
        return False
    return True


def resume_paused_decision(ref: str, decision_id: int) -> int:
    """Resume the incident's paused breach-decision runs with the id of the decision just recorded (nothing else)."""
    use_served_api()
    if not os.environ.get("PREFECT_API_URL"):
        return 0
    try:
        return asyncio.run(_resume(ref, {"decision_id": decision_id}))
    except Exception:  # noqa: BLE001 - the decision is recorded; a waiting run times out on its own
        return 0


async def _resume(ref: str, run_input: dict[str, object]) -> int:
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
