"""One engine pass, batched in a single flow run whatever the volume: intake of queued incidents, delivery of
the outbox, the watchdog's steps on every obligation that has one due, then delivery of what those steps wrote."""

from dataclasses import asdict
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import steps


@task(name="take-in-queued", cache_policy=NO_CACHE)
def take_in_queued_task(at: str) -> list[str]:
    return steps.propose_scopes(steps.queued_incident_ids(), steps.pass_instant(at))


@task(name="deliver-outbox", cache_policy=NO_CACHE)
async def deliver_outbox_task(at: str) -> dict[str, int]:
    report = await steps.deliver_due(steps.pass_instant(at))
    return {"delivered": len(report.delivered), "failed": len(report.failed), "refused": len(report.refused),
            "escalated": len(report.escalated)}


@task(name="take-due-steps", cache_policy=NO_CACHE)
def take_due_steps_task(at: str) -> list[dict[str, Any]]:
    return steps.take_due_steps(steps.pass_instant(at))


@flow(name="engine-pass")
async def engine_pass(at: str | None = None) -> dict[str, Any]:
    """Returns references, obligation kinds and step names only: recipients stay out of Prefect's results."""
    now = steps.resolve_instant(at)
    instant = now.isoformat()  # one instant for the whole pass
    async with steps.logged_pass(now) as result:
        result.taken_in = take_in_queued_task(instant)
        first = await deliver_outbox_task(instant)
        result.steps = take_due_steps_task(instant)
        second = await deliver_outbox_task(instant)
        for key in ("delivered", "failed", "refused", "escalated"):
            setattr(result, key, first[key] + second[key])
    return asdict(result)
