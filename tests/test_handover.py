"""The hand-over tells the truth after the service stopped: `incidents serve` started then stopped (SIGTERM, and
kill -9 in another run), then `declare` with no service delivers the alert itself (or says it stays queued, which
`status` then shows); the service's Prefect server does not outlive it (trials/handover.py, run here)."""

import pytest

from trials import handover

pytestmark = pytest.mark.slow  # two real services started and stopped


@pytest.mark.parametrize("stop", ["term", "kill"])
def test_declare_after_the_service_stopped_delivers_or_says_queued_and_leaves_no_orphan(stop):
    counts = handover.run(stop)
    print("\n".join(counts.lines()))

    assert counts.declare_exit == 0
    assert (counts.orchestration, counts.alerts_delivered) == ("done", handover.ALERT_RECIPIENTS)
    assert counts.queued_in_status == 0
    assert not counts.server_outlived_service
    assert not counts.state_file_left
