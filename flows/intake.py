"""Intake: propose the scope of one declared incident, then deliver its cross-party alert."""

from typing import Any

from prefect import flow, tags, task
from prefect.cache_policies import NO_CACHE

from flows import steps


@task(name="propose-scope", cache_policy=NO_CACHE)
def propose_scope_task(incident_id: int, at: str | None) -> int:
    return len(steps.propose_scopes([incident_id], steps.resolve_instant(at)))


@task(name="deliver-alert", cache_policy=NO_CACHE)
async def deliver_alert_task(incident_id: int, at: str | None) -> dict[str, int]:
    report = await steps.deliver_due(steps.resolve_instant(at), incident_id)
    return {"delivered": len(report.delivered), "failed": len(report.failed)}


@flow(name="intake")
async def intake(incident_id: int, at: str | None = None) -> dict[str, Any]:
    """Takes an incident id only: the incident's content stays in the store, out of Prefect."""
    propose_scope_task(incident_id, at)
    return await deliver_alert_task(incident_id, at)


async def run_intake(incident_id: int, ref: str, at: str | None = None) -> dict[str, Any]:
    """Run intake as a tracked flow run named and tagged with the incident reference (never its content)."""
    with tags(ref, "intake"):
        return await intake.with_options(flow_run_name=f"intake-{ref}")(incident_id=incident_id, at=at)
