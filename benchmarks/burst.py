"""Burst benchmark: N declarations accepted, then all their mail (two alerts to the académie and the declarant's
receipt, 3 N messages) delivered to a local SMTP server, timed whole, three ways in one run:

- raw: the same work written directly with sqlite3, Jinja2 and aiosmtplib (benchmarks/raw_burst.py);
- without Prefect: the engine's own functions (the door, one engine pass) called directly;
- with Prefect: the same engine pass as one flow run against a real local Prefect server;
- distributed (with --distributed): on PostgreSQL, two Prefect process workers (trials/distributed.py).

    uv run python benchmarks/burst.py [--count 1000] [--connections 4] [--distributed]

Prints each time and its ratio to the raw baseline. Each run gets a fresh SQLite store and var/ folder in a
temporary directory.
"""

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKDIR = Path(tempfile.mkdtemp(prefix="burst-"))
os.environ.setdefault("PREFECT_HOME", str(WORKDIR / "prefect"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pendulum  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from benchmarks import raw_burst  # noqa: E402
from models.commands import Declare  # noqa: E402
from models.db import session_scope  # noqa: E402
from models.declaration import parse_declaration  # noqa: E402
from models.door import execute  # noqa: E402
from models.store_mode import mark_as_simulation  # noqa: E402
from settings.parties import load_parties  # noqa: E402

NOW = pendulum.parse("2026-11-28T10:00:00+01:00")
COMMUNES = ("54999", "57999", "88999")
REFERENTS = {"54999": "referent-ent@villers-les-exemple.example.org",  # who declares for each commune
             "57999": "numerique@montigny-sur-exemple.example.org",
             "88999": "mairie@saint-exemple.example.org"}


class CountingHandler:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        self.received += len(envelope.rcpt_tos)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def use_fresh_store(label: str) -> None:
    folder = WORKDIR / label.replace(" ", "-")
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["INCIDENTS_VAR_DIR"] = str(folder / "var")
    os.environ["INCIDENTS_DATABASE_URL"] = f"sqlite:///{folder / 'incidents.db'}"
    # A simulation store: the passes replay the fixed instant NOW (a real store only acts now), and its mail goes
    # to the SMTP server on this machine only.
    with session_scope() as session:
        mark_as_simulation(session)


def accept_declarations(count: int, now: pendulum.DateTime = NOW) -> None:
    """What `incidents declare` commits, without the process start: validate, then one transaction each, through
    the door, by the commune's referent."""
    parties = load_parties()
    for index in range(count):
        commune = COMMUNES[index % len(COMMUNES)]
        referent = parties.person(REFERENTS[commune])
        assert referent is not None
        raw = {
            "title": f"Fuite de données chez le prestataire ({index})",
            "description": "Le prestataire de l'ENT signale un accès illégitime à sa base.",
            "declared_by": "municipality", "municipality": commune,
            "reporter": {"name": "Référent ENT", "email": "referent@example.org"},
            "aware_at": now.subtract(hours=2).isoformat(), "categories": ["vendor", "personal_data"],
            "personal_data": "yes",
        }
        declaration = parse_declaration(raw, parties, now)
        with session_scope() as session:
            execute(session, Declare(declaration), referent, now, parties)


def timed(label: str, count: int, deliver: Callable[[], Any], handler: CountingHandler) -> float:
    use_fresh_store(label)
    before = handler.received
    started = time.perf_counter()
    accept_declarations(count)
    accepted = time.perf_counter() - started
    deliver()
    elapsed = time.perf_counter() - started
    delivered = handler.received - before
    print(f"{label:>16}: {elapsed:7.2f} s in all (accepting {accepted:6.2f} s), {delivered} messages delivered")
    expected = count * 3  # two alert contacts at the académie, and the declarant's receipt
    if delivered != expected:
        raise SystemExit(f"{label}: {delivered} messages delivered, {expected} expected")
    return elapsed


def raw(count: int, port: int) -> float:
    parties = load_parties()
    recipients = [(str(contact.email), contact.name) for contact in parties.academy.alert_contacts]
    declarations = [raw_burst.Declared(title=f"Fuite de données chez le prestataire ({index})",
                                       description="Le prestataire de l'ENT signale un accès illégitime à sa base.",
                                       commune=COMMUNES[index % len(COMMUNES)], aware_at=NOW.subtract(hours=2))
                    for index in range(count)]
    accepted, elapsed, sent = raw_burst.burst(WORKDIR / "raw", declarations, recipients,
                                              ("referent@example.org", "Référent ENT"), "127.0.0.1", port, NOW)
    print(f"{'raw baseline':>16}: {elapsed:7.2f} s in all (accepting {accepted:6.2f} s), {sent} messages delivered")
    if sent != count * 3:
        raise SystemExit(f"raw baseline: {sent} messages delivered, {count * 3} expected")
    return elapsed


def on_the_distributed_set_up(count: int) -> float:
    """The same burst on the distributed set-up of trials.distributed: the store and Prefect's server on
    PostgreSQL, two process workers; the declarations committed, then engine passes (the watchdog deployment, two
    flow runs at a time, one per worker) until every message is sent. Its set-up is not counted."""
    from trials.distributed import distributed

    started = time.perf_counter()
    with distributed(workers=2) as cluster:
        print(f"(distributed set-up started in {time.perf_counter() - started:.1f} s, not counted)")
        now = pendulum.now("UTC")  # a pass on the workers acts as of now: so do the declarations
        started = time.perf_counter()
        accept_declarations(count, now)
        accepted = time.perf_counter() - started
        cluster.passes_until_settled(worker_count=2)
        elapsed = time.perf_counter() - started
        delivered = cluster.relay.accepted
    print(f"{'distributed':>16}: {elapsed:7.2f} s in all (accepting {accepted:6.2f} s), {delivered} messages "
          "delivered")
    if delivered != count * 3:
        raise SystemExit(f"distributed: {delivered} messages delivered, {count * 3} expected")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="declarations in the burst (default 1000)")
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections of a pass (default 4)")
    parser.add_argument("--distributed", action="store_true",
                        help="also on the distributed set-up (PostgreSQL, Prefect server, two process workers)")
    arguments = parser.parse_args()
    count = arguments.count
    os.environ["INCIDENTS_SMTP_CONNECTIONS"] = str(arguments.connections)

    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    os.environ["INCIDENTS_SMTP_HOST"], os.environ["INCIDENTS_SMTP_PORT"] = "127.0.0.1", str(controller.port)
    try:
        baseline = raw(count, controller.port)
        handler.received = 0

        from flows.steps import engine_pass_bare

        bare = timed("without Prefect", count, lambda: asyncio.run(engine_pass_bare(NOW)), handler)

        from prefect.testing.utilities import prefect_test_harness

        from flows.engine import engine_pass

        started = time.perf_counter()
        with prefect_test_harness(server_startup_timeout=120):
            print(f"(local Prefect server started in {time.perf_counter() - started:.1f} s, not counted)")
            orchestrated = timed("with Prefect", count, lambda: asyncio.run(engine_pass(at=NOW.isoformat())),
                                 handler)
        spread = on_the_distributed_set_up(count) if arguments.distributed else None
    finally:
        controller.stop()
    if spread is not None:
        print(f"ratio to the raw baseline, distributed: {spread / baseline:.2f}")
    print(f"ratio to the raw baseline: without Prefect {bare / baseline:.2f}, "
          f"with Prefect {orchestrated / baseline:.2f} (target: 3 or less); "
          f"with/without Prefect: {orchestrated / bare:.2f}")


if __name__ == "__main__":
    main()
