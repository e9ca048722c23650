"""With a real Prefect server, the breach-decision flow waits for the DPD's decision, made only through the door.
A resume that does not name the recorded decision is ignored; the decision's id resumes it; nothing the DPD wrote,
nor the DPD's address, reaches Prefect's database."""

import asyncio
import json
import threading
import time
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.flow_runs import resume_flow_run
from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

from flows.breach import breach_decision
from tests.test_breach_decision import BREACH, DPD, assess
from tests.walkers import declared, obligation, shown, timeline_of

RATIONALE = "Aucune donnée consultée d'après les journaux relus par M. Durand le 21 novembre."


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


def resume(run_id, run_input, seconds=30):
    """Resume, asking again while Prefect refuses because the pause's input form is not stored yet."""
    limit = time.monotonic() + seconds
    while True:
        try:
            return resume_flow_run(run_id, run_input=run_input)
        except RuntimeError:
            if time.monotonic() > limit:
                raise
            time.sleep(0.3)


def prefect_database_mentions(*texts):
    """Which of `texts` appear in the bytes of Prefect's database files (the database, its WAL and journal)."""
    path = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    content = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    return {text for text in texts if text.encode("utf-8") in content}


def test_the_flow_waits_for_the_recorded_decision_and_ignores_a_forged_resume(cli, smtp, tmp_path):
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
        # Whoever reaches Prefect cannot decide: an input naming no recorded decision is ignored, the flow waits.
        resume(first.id, {"decision_id": 4242})
        second = paused_run(ref, seen=1)
        assert second.id == first.id
        assert "breach_decided" not in [e["kind"] for e in timeline_of(cli, ref)]
        decided = cli("decide", ref, "--cnil", "no", "--subjects", "no", "--by", DPD, "--rationale", RATIONALE,
                      "--at", "2026-11-21T09:30:00+01:00")
        assert decided.exit_code == 0, decided.output
        # `decide` itself resumes the incident's waiting run with the recorded decision's id.
        [entry] = [e for e in timeline_of(cli, ref) if e["kind"] == "breach_decided"]
    finally:
        worker.join(timeout=120)
    assert outcome["result"] == {"status": "decided", "decision_id": entry["payload"]["decision_id"]}
    assert (entry["actor"], entry["payload"]["notify_cnil"], entry["payload"]["rationale"]) == (DPD, False, RATIONALE)
    assert obligation(shown(cli, ref), "cnil_notification")["status"] == "not_required"
    assert prefect_database_mentions(RATIONALE, DPD, json.dumps(RATIONALE)[1:-1]) == set()
