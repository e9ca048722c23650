"""Watchdog benchmark: one engine pass with the same 1,000 obligations due among 10,000 and among 100,000 stored.

    uv run python benchmarks/watchdog.py [--due 1000] [--stored 10000 100000]

Each store is built in a temporary folder. Through the door: a few incidents declared four days before the pass,
taken in by a real engine pass, their alerts delivered and acknowledged (each keeps one obligation whose reminder is
due: its follow-up), and a few declared the day before (their alert met, their follow-up not due yet). Then both are
cloned by plain SQL (benchmarks/bulk.py: the chain still verifies) into the same due set, and as much background as
each size needs; the two stores differ by their background only.

Timed: the whole pass (`flows.steps.engine_pass_bare`, what the `watchdog` deployment runs, without Prefect), as of
the same instant on both stores, and its parts: the due steps (reading what is due, one transaction per step through
the door, the messages queued) and the delivery of those messages. No SMTP relay: the messages are written as .eml
files under var/mail, the same work for both stores, so that a relay's speed is not measured here (benchmarks/burst.py
measures delivery). A first pass on a small store is not counted (imports, template compilation).
"""

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pendulum  # noqa: E402

import flows.steps  # noqa: E402
from benchmarks.bulk import clone_incidents, copy_store, declare, incident_ids, point_at, use_store  # noqa: E402
from models.commands import Acknowledge  # noqa: E402
from models.door import run  # noqa: E402
from settings.parties import load_parties  # noqa: E402

NOW = pendulum.parse("2026-11-28T10:00:00+01:00")
DUE_DECLARED = NOW.subtract(days=4)  # the follow-up's first reminder falls at half of its 7 days
BACKGROUND_DECLARED = NOW.subtract(hours=20)  # nothing due yet: reminders at 3.5 days, acknowledgement one at 24 h
RSSI = "rssi@ac-nancy-metz.example.org"
PARTS: dict[str, float] = defaultdict(float)


def timed_part(name: str, work: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return work(*args)
        finally:
            PARTS[name] += time.perf_counter() - started
    return wrapper


def timed_async_part(name: str, work: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapper(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return await work(*args)
        finally:
            PARTS[name] += time.perf_counter() - started
    return wrapper


# The pass looks these up when it runs: its parts are timed where it calls them.
flows.steps.take_due_steps = timed_part("steps", flows.steps.take_due_steps)  # type: ignore[assignment]
flows.steps.deliver_due = timed_async_part("delivery", flows.steps.deliver_due)  # type: ignore[assignment]


def obligations(database: Path) -> tuple[int, int]:
    """Stored obligations, and those due as of NOW."""
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM obligation").fetchone()[0]
        due = connection.execute("SELECT count(*) FROM obligation WHERE next_action_at <= ?",
                                 (NOW.in_timezone("UTC").format("YYYY-MM-DD HH:mm:ss.SSSSSS"),)).fetchone()[0]
    return int(stored), int(due)


def build_base(folder: Path, templates: int) -> tuple[Path, list[int], list[int]]:
    database = use_store(folder)
    parties = load_parties()
    rssi = parties.person(RSSI)
    assert rssi is not None
    declare(templates, DUE_DECLARED, parties=parties)
    asyncio.run(flows.steps.engine_pass_bare(DUE_DECLARED))
    due_templates = incident_ids()
    for incident_id in due_templates:
        run(Acknowledge(incident_id=incident_id), rssi, DUE_DECLARED.add(hours=1), parties)
    declare(templates, BACKGROUND_DECLARED, parties=parties)
    asyncio.run(flows.steps.engine_pass_bare(BACKGROUND_DECLARED))
    background_templates = [i for i in incident_ids() if i not in due_templates]
    return database, due_templates, background_templates


def timed_pass(database: Path) -> dict[str, float]:
    point_at(database)
    PARTS.clear()
    started = time.perf_counter()
    result = asyncio.run(flows.steps.engine_pass_bare(NOW))
    return {"whole": time.perf_counter() - started, "steps": PARTS["steps"], "delivery": PARTS["delivery"],
            "taken": len(result.steps), "delivered": result.delivered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--due", type=int, default=1000, help="obligations due (default 1000)")
    parser.add_argument("--stored", type=int, nargs=2, default=[10_000, 100_000], metavar=("SMALL", "LARGE"),
                        help="obligations stored in each store (default 10000 100000)")
    parser.add_argument("--templates", type=int, default=10, help="incidents of each kind built through the door")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-watchdog-"))
    started = time.perf_counter()
    base, due_templates, background_templates = build_base(workdir / "base", options.templates)
    warm_up = copy_store(base, workdir / "warm-up")
    clone_incidents(due_templates, max(0, -(-options.due // len(due_templates)) - 1))
    stores = []
    for size in options.stored:
        database = copy_store(base, workdir / f"stored-{size}")
        point_at(database)
        stored, _ = obligations(database)
        with sqlite3.connect(database) as connection:
            per_copy = connection.execute(
                f"SELECT count(*) FROM obligation WHERE incident_id IN ({','.join('?' * len(background_templates))})",
                background_templates).fetchone()[0]
        clone_incidents(background_templates, max(0, -(-(size - stored) // per_copy)))
        stores.append((database, *obligations(database)))
    print(f"stores built in {time.perf_counter() - started:.1f} s ({workdir})")

    timed_pass(warm_up)
    results = [(stored, due, timed_pass(database)) for database, stored, due in stores]

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print("\n| obligations stored | due | steps taken | messages (.eml) | whole pass | of which due steps | "
          "of which delivery |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for stored, due, times in results:
        print(f"| {stored:,} | {due:,} | {times['taken']:,} | {times['delivered']:,} | {times['whole']:.2f} s | "
              f"{times['steps']:.2f} s | {times['delivery']:.2f} s |")
    (_, _, small), (_, _, large) = results
    print(f"| ratio | | | | **{large['whole'] / small['whole']:.2f}** | **{large['steps'] / small['steps']:.2f}** | "
          f"{large['delivery'] / small['delivery']:.2f} |")
    print(f"\nload average after the run: {load} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
