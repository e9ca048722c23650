"""`incidents status` against a Prefect server of its own (PREFECT_API_URL, the distributed set-up): it says whether
the engine is deployed there and how many workers of its pool are online, as Prefect counts them from their
heartbeats, and asks for someone when none is. Run against the session's real Prefect server."""

import json
import urllib.request
import uuid

import pytest

from tests.conftest import AUDITOR


def api(base: str, path: str, body: dict | None = None, method: str | None = None):
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode() if body is not None else None,
                                     method=method or ("POST" if body is not None else "GET"),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def status(cli) -> tuple[int, dict, str]:
    as_json, as_text = cli("status", "--json", "--by", AUDITOR), cli("status", "--by", AUDITOR)
    assert as_json.exit_code in (0, 3), as_json.output
    return as_json.exit_code, json.loads(as_json.stdout), as_text.stdout


@pytest.fixture
def watchdog_deployment(prefect_api):
    """The engine's pass deployed to a work pool of its own name, as `prefect deploy --all` does; removed after."""
    pool = f"ent-incidents-{uuid.uuid4().hex[:8]}"
    api(prefect_api, "/work_pools/", {"name": pool, "type": "process"})
    flow = api(prefect_api, "/flows/", {"name": "engine-pass"})
    deployment = api(prefect_api, "/deployments/", {"name": "watchdog", "flow_id": flow["id"],
                                                    "work_pool_name": pool})
    yield pool
    api(prefect_api, f"/deployments/{deployment['id']}", method="DELETE")
    api(prefect_api, f"/work_pools/{pool}", method="DELETE")


def test_an_engine_not_deployed_is_named(cli, prefect_api):
    existing = api(prefect_api, "/deployments/filter", {"deployments": {"name": {"any_": ["watchdog"]}}})
    for deployment in existing:  # another test's, on the session's server
        api(prefect_api, f"/deployments/{deployment['id']}", method="DELETE")

    code, view, text = status(cli)
    assert code == 3
    assert view["service"]["engine"]["deployed"] is False
    assert "le moteur n'est pas déployé sur ce serveur Prefect : aucune passe automatique (« prefect deploy --all », " \
        "voir le README)" in view["attention"]
    assert f"Serveur Prefect : en marche ({prefect_api})" in text
    assert "lancez « incidents serve »" not in text


def test_workers_online_in_the_engines_pool_are_counted_and_none_online_is_named(cli, prefect_api,
                                                                                  watchdog_deployment):
    pool = watchdog_deployment
    _, view, text = status(cli)
    none_online = f"aucun worker en ligne dans le pool « {pool} » : ni passe du moteur ni remise (« prefect worker " \
        f"start --pool {pool} »)"
    assert none_online in view["attention"]
    assert f"Workers du pool « {pool} » : 0 en ligne sur 0" in text

    for name in ("poste-1", "poste-2"):  # what `prefect worker start` sends every 30 s
        api(prefect_api, f"/work_pools/{pool}/workers/heartbeat", {"name": name, "heartbeat_interval_seconds": 30})

    _, view, text = status(cli)
    assert (view["service"]["engine"]["workers_online"], view["service"]["engine"]["workers"]) == (2, 2)
    assert none_online not in view["attention"]
    assert f"Workers du pool « {pool} » : 2 en ligne sur 2" in text


@pytest.mark.parametrize("workers", [b'{"a": 1}', b'"abc"', b"5", b"[1, null]", b"not json"])
def test_a_prefect_server_answering_junk_leaves_the_workers_unknown_not_a_crash(plain_cli, monkeypatch, workers):
    """A server (or a proxy in front of it) that answers its health check, then anything but Prefect's answer:
    status still reports, with the workers' state unknown, and asks for someone (exit 3)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Junk(BaseHTTPRequestHandler):
        def answer(self) -> None:
            body = b"{}" if self.path.endswith("/health") else \
                b'{"work_pool_name": "pool"}' if "/deployments/" in self.path else workers
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer  # noqa: N815 - http.server's names

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Junk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{server.server_address[1]}/api")
        result = plain_cli("status", "--json", "--by", AUDITOR)
    finally:
        server.shutdown()
    assert result.exit_code == 3, result.output
    assert "le serveur Prefect répond, mais sa réponse sur le moteur et ses workers est illisible : état des " \
        "workers inconnu" in json.loads(result.stdout)["attention"]


def test_the_servers_address_with_a_final_slash_or_no_address_at_all(cli, prefect_api, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", prefect_api + "/")  # as Prefect's client takes it
    assert f"Serveur Prefect : en marche ({prefect_api}/)" in status(cli)[2]
    monkeypatch.setenv("PREFECT_API_URL", "http://[::1")
    code, view, text = status(cli)
    assert code == 3 and "Serveur Prefect : injoignable (http://[::1)" in text
    assert "le serveur Prefect (http://[::1) ne répond pas : aucune passe automatique" in view["attention"]
