"""With a real Prefect server, the breach-decision flow pauses for the DPD's typed decision; a decision given
through Prefect's resume API completes it (the same gates apply, and a refused answer is asked again)."""

import asyncio
import threading
import time

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.flow_runs import resume_flow_run

from flows.breach import breach_decision
from tests.test_breach_decision import BREACH, DPD, assess
from tests.walkers import declared, obligation, shown, timeline_of


def paused_run(ref, seen=0, seconds=60):
    """Poll Prefect's API for the run of this incident once it is paused (this waits for an event, not a deadline)."""
    async def read():
        async with get_client() as client:
            return await client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[ref])))

    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        runs = [run for run in asyncio.run(read()) if run.state and run.state.is_paused()]
        if runs and (runs[0].state.state_details.pause_key or "").endswith(str(seen + 1)):
            return runs[0]
        time.sleep(0.3)
    raise AssertionError("the breach-decision flow never paused")


def test_the_decision_flow_pauses_and_a_typed_resume_completes_it(cli, smtp, tmp_path):
    from prefect import tags

    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    assess(cli, tmp_path, ref, "2026-11-20T15:00:00+01:00", data_types=["simple"], malicious=False,
           confidentiality="none", vulnerable_subjects=False)
    incident_id = 1
    outcome = {}

    def run_flow():
        with tags(ref):
            outcome["result"] = asyncio.run(breach_decision(incident_id=incident_id, at="2026-11-21T09:00:00+01:00",
                                                            poll_interval=1))

    worker = threading.Thread(target=run_flow)
    worker.start()
    try:
        first = paused_run(ref)
        # An answer the gates refuse (a "no" without rationale) is not applied: the flow asks again.
        resume_flow_run(first.id, run_input={"cnil": "no", "subjects": "no", "by": DPD})
        second = paused_run(ref, seen=1)
        assert second.id == first.id
        assert "breach_decided" not in [e["kind"] for e in timeline_of(cli, ref)]
        resume_flow_run(second.id, run_input={"cnil": "no", "subjects": "no", "by": DPD,
                                              "rationale": "Aucune donnée consultée d'après les journaux."})
    finally:
        worker.join(timeout=120)
    assert outcome["result"] == {"status": "decided"}
    [decided] = [e for e in timeline_of(cli, ref) if e["kind"] == "breach_decided"]
    assert (decided["actor"], decided["payload"]["notify_cnil"]) == (DPD, False)
    assert decided["payload"]["rationale"] == "Aucune donnée consultée d'après les journaux."
    assert obligation(shown(cli, ref), "cnil_notification")["status"] == "not_required"
