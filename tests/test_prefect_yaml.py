"""prefect.yaml names the deployments users expect, and each entrypoint loads the flow it claims."""

from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[1]


def test_each_deployment_entrypoint_loads_its_flow():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["name"]: d for d in config["deployments"]}

    assert set(deployments) == {"intake", "dispatch", "watchdog", "breach-decision", "monthly"}
    assert deployments["watchdog"]["schedules"] == [{"interval": 300}]
    flows = {name: load_flow_from_entrypoint(str(ROOT / d["entrypoint"])).name for name, d in deployments.items()}
    assert flows == {"intake": "intake", "dispatch": "dispatch", "watchdog": "engine-pass",
                     "breach-decision": "breach-decision", "monthly": "steering-report"}
