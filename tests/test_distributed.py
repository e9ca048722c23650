"""The distributed set-up, run for real (trials/distributed.py): a Prefect server and the store on PostgreSQL, the
deployments of prefect.yaml on a process work pool, two `prefect worker` processes sharing the outbox."""

import pytest

from trials import distributed
from trials.common import report


@pytest.mark.slow
def test_two_workers_deliver_each_alert_once_and_a_killed_worker_loses_nothing() -> None:
    counts = distributed.run(size=200, burst=80, delay=0.15)
    report(counts)

    assert counts.problems == []
    # 200 declarations through two workers: every message received exactly once, all sent, the chain verifies.
    assert (counts.declarations, counts.messages) == (200, 600)  # two alerts and the declarant's receipt each
    assert (counts.handed_over, counts.intake_runs) == (2, 2)  # `incidents declare` handed over to `intake`
    assert (counts.received_once, counts.unexpected, counts.unsent) == (600, 0, 0)
    assert sorted(counts.runs_by_worker) == ["worker-1", "worker-2"]
    assert all(runs >= 1 for runs in counts.runs_by_worker.values()), counts.runs_by_worker
    assert counts.chain_verified
    assert counts.workers_in_status == (2, 2)  # `incidents status` counts the pool's workers online
    # One worker killed while both deliver a burst: the survivor sends everything; what leaves twice is no more
    # than what the killed worker had handed to the relay without recording it.
    assert counts.killed_processes >= 2  # the worker and the flow-run process it started
    assert 0 < counts.received_at_kill < counts.burst_messages
    assert counts.lost == 0
    assert counts.duplicates <= counts.in_flight
    assert counts.chain_verified_after
