"""Prefect's REST API, spoken directly for the few calls a command makes to a running service (is it up, is a
deployment served, start a run): importing Prefect's own client costs seconds, these calls a few milliseconds.
urllib rather than httpx: nothing more to import (httpx adds a few hundred milliseconds to `declare`).

The address and credentials are Prefect's own settings, PREFECT_API_URL with PREFECT_API_AUTH_STRING (basic
authentication, what `incidents serve` sets) or PREFECT_API_KEY, as Prefect's client reads them."""

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

# A served deployment is live when its process polled it this recently (`incidents serve` polls every 2 s).
LIVE_POLL_SECONDS = 30
TIMEOUT_SECONDS = 10


def authorization(auth: str | None, api_key: str | None = None) -> dict[str, str]:
    """The header Prefect's client sends: basic authentication first, else the API key."""
    if auth:
        return {"Authorization": f"Basic {base64.b64encode(auth.encode()).decode()}"}
    if api_key:
        return {"Authorization": f"Bearer {api_key}"}
    return {}


def call(path: str, body: dict[str, Any] | None = None, timeout: float = TIMEOUT_SECONDS) -> Any:
    """GET `path` (POST when there is a body) on the API of PREFECT_API_URL; None for 404, which Prefect answers for
    an object it does not have. Any other refusal raises urllib's HTTPError, an unreachable server OSError."""
    headers = {"Accept": "application/json",
               **authorization(os.environ.get("PREFECT_API_AUTH_STRING"), os.environ.get("PREFECT_API_KEY"))}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(f"{os.environ['PREFECT_API_URL'].rstrip('/')}{path}", data=data,
                                     headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
    return json.loads(text) if text else None


def answers(api_url: str, auth: str | None) -> bool:
    """Whether a Prefect server answers its health check at `api_url`."""
    try:  # Prefect's client takes the address with or without its final slash
        request = urllib.request.Request(f"{api_url.rstrip('/')}/health", headers=authorization(auth))
        with urllib.request.urlopen(request, timeout=3) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):  # unreachable, or no address at all ("http://[::1"): not answering either way
        return False


def live_deployment(flow_name: str, deployment_name: str, served_here: bool = False) -> dict[str, Any] | None:
    """The deployment, if it exists, is not paused, and a live process polled it just now (or, `served_here`, a
    live `incidents serve` of this machine serves it: Prefect records polls in the background, late on a loaded
    server); else None."""
    deployment = call(f"/deployments/name/{flow_name}/{deployment_name}")
    if not isinstance(deployment, dict) or deployment.get("paused"):
        return None
    return deployment if served_here or _polled_now(deployment) else None


def _polled_now(deployment: dict[str, Any]) -> bool:
    """Whether a live process polled the deployment just now."""
    if not deployment.get("last_polled"):
        return False
    polled = datetime.fromisoformat(str(deployment["last_polled"]))
    return (datetime.now(UTC) - polled).total_seconds() < LIVE_POLL_SECONDS


def create_flow_run(deployment_id: str, parameters: dict[str, Any], name: str, tags: list[str]) -> dict[str, Any]:
    """Schedule a run of the deployment now, as Prefect's `run_deployment` does (the server merges the deployment's
    own parameters and tags)."""
    run = call(f"/deployments/{deployment_id}/create_flow_run", {"parameters": parameters, "name": name,
                                                                  "tags": tags})
    if not isinstance(run, dict):
        raise LookupError(f"deployment {deployment_id} not found")
    return run


def engine_runners(flow_name: str, deployment_name: str) -> dict[str, Any]:
    """Who runs the engine's deployment on the server of PREFECT_API_URL: the workers of its work pool (how many
    are online, as Prefect counts them from their heartbeats), or, for a deployment served without a pool
    (`incidents serve`), whether a live process polls it. `deployed` is False when the server has no such
    deployment; `pool` None when it is served."""
    deployment = call(f"/deployments/name/{flow_name}/{deployment_name}")
    if deployment is None:
        return {"deployed": False, "pool": None, "workers_online": 0, "workers": 0, "served": False}
    if not isinstance(deployment, dict):
        raise ValueError("a deployment that is no object")
    pool = deployment.get("work_pool_name")
    if not pool:
        return {"deployed": True, "pool": None, "workers_online": 0, "workers": 0, "served": _polled_now(deployment)}
    workers = call(f"/work_pools/{urllib.parse.quote(str(pool), safe='')}/workers/filter", {"limit": 200}) or []
    if not isinstance(workers, list) or not all(isinstance(worker, dict) for worker in workers):
        raise ValueError("workers that are no list of objects")
    return {"deployed": True, "pool": str(pool), "workers": len(workers), "served": False,
            "workers_online": sum(1 for worker in workers if worker.get("status") == "ONLINE")}
