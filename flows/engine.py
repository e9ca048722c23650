"""One engine pass, batched in a single flow run whatever the volume: intake of queued incidents, delivery."""

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import steps


@task(name="take-in-queued", cache_policy=NO_CACHE)
def take_in_queued_task(at: str | None) -> list[str]:
    return steps.propose_scopes(steps.queued_incident_ids(), steps.resolve_instant(at))


@task(name="deliver-outbox", cache_policy=NO_CACHE)
async def deliver_outbox_task(at: str | None) -> dict[str, int]:
    report = await steps.deliver_due(steps.resolve_instant(at))
    return {"delivered": len(report.delivered), "failed": len(report.failed)}


@flow(name="engine-pass")
async def engine_pass(at: str | None = None) -> dict[str, Any]:
    taken_in = take_in_queued_task(at)
    delivery = await deliver_outbox_task(at)
    return {"at": steps.resolve_instant(at).isoformat(), "taken_in": taken_in, **delivery}
