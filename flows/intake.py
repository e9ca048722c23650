"""Intake: propose the scope of one declared incident, then deliver its pending messages (the alert first)."""

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import steps


@task(name="propose-scope", cache_policy=NO_CACHE)
def propose_scope_task(incident_id: int, at: str | None) -> int:
    return len(steps.propose_scopes([incident_id], steps.resolve_instant(at)))


@task(name="deliver-messages", cache_policy=NO_CACHE)
async def deliver_messages_task(incident_id: int, at: str | None) -> dict[str, int]:
    report = await steps.deliver_due(steps.resolve_instant(at), incident_id)
    return {"delivered": len(report.delivered), "failed": len(report.failed)}


@flow(name="intake")
async def intake(incident_id: int, at: str | None = None) -> dict[str, Any]:
    """Takes an incident id only: the incident's content stays in the store, out of Prefect."""
    propose_scope_task(incident_id, at)
    return await deliver_messages_task(incident_id, at)


@flow(name="dispatch")
async def dispatch(incident_id: int, at: str | None = None) -> dict[str, Any]:
    """Deliver an incident's pending messages now (after a follow-up, a closure)."""
    return await deliver_messages_task(incident_id, at)
