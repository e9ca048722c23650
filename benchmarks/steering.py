"""Steering report benchmark: the report to the comité de pilotage over N incidents (10,000 by default), against the
same counts computed with plain SQL (sqlite3).

    uv run python benchmarks/steering.py [--incidents 10000] [--rounds 3]

The store is built in a temporary folder: a few incidents per month from September to November 2026 declared
through the door and taken in by real engine passes (alerts written as .eml files), with and without personal data
(CNIL clocks), one dismissed, some acknowledged; then cloned by plain SQL up to N incidents (benchmarks/bulk.py: the
chain still verifies). Timed, in one process (its start not counted): `reports.steering.steering_data` in one read
transaction, then its HTML rendering with the charts, as `incidents report steering --format html` does; the median
of the rounds, the first (which pays for importing Matplotlib) not counted.
"""

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pendulum  # noqa: E402

from benchmarks.bulk import clone_incidents, declare, incident_ids, use_store  # noqa: E402
from flows.steps import engine_pass_bare  # noqa: E402
from models.commands import Acknowledge, Dismiss  # noqa: E402
from models.db import read_scope  # noqa: E402
from models.door import run  # noqa: E402
from reports.render import render_steering  # noqa: E402
from reports.steering import period_bounds, steering_data  # noqa: E402
from settings.parties import load_parties  # noqa: E402

FIRST, LAST = date(2026, 9, 1), date(2026, 11, 30)
RSSI = "rssi@ac-nancy-metz.example.org"
CATEGORIES = (("vendor",), ("directory",), ("governance",), ("minor_protection", "infrastructure"), ("availability",))


def build(templates: int) -> None:
    """`templates` incidents through the door, spread over the period's weeks."""
    parties = load_parties()
    rssi = parties.person(RSSI)
    assert rssi is not None
    for index in range(templates):
        at = pendulum.datetime(2026, 9, 2, 10, tz="Europe/Paris").add(days=6 * index)
        personal = ("no", "yes", "unknown")[index % 3]
        declare(1, at, personal_data=personal, categories=CATEGORIES[index % len(CATEGORIES)], parties=parties)
        asyncio.run(engine_pass_bare(at))
        [incident_id] = incident_ids()[-1:]
        if index % 7 == 3 and personal == "no":  # a breach clock is lifted by the DPD alone, not by a dismissal
            run(Dismiss(incident_id=incident_id, reason="Doublon d'un incident déjà déclaré"), rssi, at.add(hours=1),
                parties)
        elif index % 2 == 0:
            run(Acknowledge(incident_id=incident_id), rssi, at.add(hours=3), parties)


def sql_counts(database: Path, finish: str, begin: str) -> dict[str, Any]:
    """The report's counts with plain SQL: by scope, category, commune and month, the alert clock, what is overdue."""
    connection = sqlite3.connect(database)
    period = "declared_at >= ? AND declared_at < ? AND (dismissed_at IS NULL OR dismissed_at >= ?)"
    args = (begin, finish, finish)
    counts: dict[str, Any] = {
        "by_scope": connection.execute(f"SELECT coalesce(confirmed_scope, proposed_scope), count(*) FROM incident "
                                       f"WHERE {period} GROUP BY 1", args).fetchall(),
        "by_category": connection.execute(f"SELECT value, count(*) FROM incident, json_each(incident.categories) "
                                          f"WHERE {period} GROUP BY 1", args).fetchall(),
        "by_commune": connection.execute(f"SELECT municipality_insee, count(*) FROM incident WHERE {period} "
                                         f"GROUP BY 1", args).fetchall(),
        "by_month": connection.execute(f"SELECT strftime('%Y-%m', declared_at, '+1 hour'), count(*) FROM incident "
                                       f"WHERE {period} GROUP BY 1", args).fetchall(),
        "dismissed": connection.execute("SELECT count(*) FROM incident WHERE declared_at >= ? AND declared_at < ? "
                                        "AND dismissed_at < ?", args).fetchall(),
        "clocks": connection.execute(
            f"SELECT kind, sum(waived_at < ?), sum(met_at < ? AND met_at <= due_at), sum(met_at < ? AND met_at > "
            f"due_at), count(*) FROM obligation WHERE incident_id IN (SELECT id FROM incident WHERE {period}) "
            f"GROUP BY kind", (finish, finish, finish, *args)).fetchall(),
        "overdue": connection.execute(
            "SELECT incident.ref, obligation.kind, obligation.due_at FROM obligation JOIN incident ON incident.id = "
            "obligation.incident_id WHERE incident.declared_at < ? AND (closed_at IS NULL OR closed_at >= ?) AND "
            "(dismissed_at IS NULL OR dismissed_at >= ?) AND due_at <= ? AND (met_at IS NULL OR met_at >= ?) AND "
            "(waived_at IS NULL OR waived_at >= ?) ORDER BY 1, 2", (finish,) * 6).fetchall(),
    }
    connection.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=10_000, help="incidents in the store (default 10000)")
    parser.add_argument("--templates", type=int, default=14, help="incidents built through the door (default 14)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after the first (default 3)")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-steering-"))
    database = use_store(workdir)
    started = time.perf_counter()
    build(options.templates)
    templates = incident_ids()
    clone_incidents(templates, max(0, -(-options.incidents // len(templates)) - 1))
    incidents = len(incident_ids())
    print(f"store built in {time.perf_counter() - started:.1f} s ({incidents} incidents, {database})")

    parties = load_parties()
    begin, finish = (instant.format("YYYY-MM-DD HH:mm:ss.SSSSSS") for instant in period_bounds(FIRST, LAST))
    project, data_only, sql = [], [], []
    for round_ in range(options.rounds + 1):
        started = time.perf_counter()
        with read_scope() as session:
            data = steering_data(session, FIRST, LAST, parties, pendulum.now("UTC"))
        built = time.perf_counter() - started
        html = render_steering(data, "html")
        whole = time.perf_counter() - started
        started = time.perf_counter()
        counts = sql_counts(database, finish, begin)
        raw = time.perf_counter() - started
        if round_:
            project.append(whole)
            data_only.append(built)
            sql.append(raw)
    reported = sum(count for _, count in counts["by_scope"])
    if reported != data["incidents"] or len(counts["overdue"]) != len(data["overdue_at_end"]):
        raise SystemExit(f"the counts differ: SQL {reported} incidents, {len(counts['overdue'])} overdue; report "
                         f"{data['incidents']}, {len(data['overdue_at_end'])}")

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    median_project, median_sql = statistics.median(project), statistics.median(sql)
    print(f"\n| steering report, {incidents:,} incidents ({data['incidents']:,} counted, "
          f"{len(data['overdue_at_end']):,} clocks overdue) | median of {options.rounds} |")
    print("| --- | --- |")
    print(f"| report (data and HTML with charts, {len(html) // 1024} KiB) | {median_project:.2f} s |")
    print(f"| of which the data (steering_data) | {statistics.median(data_only):.2f} s |")
    print(f"| the same counts in plain SQL (sqlite3) | {median_sql:.2f} s |")
    print(f"| ratio | **{median_project / median_sql:.1f}** |")
    print(f"\nload average after the run: {load} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
