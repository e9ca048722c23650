"""Verify benchmark: `verify` over a chain of N timeline entries (1,000,000 by default), against the same work
without the project's code (sqlite3, json and hashlib over the same rows, with the same three checks per entry).

    uv run python benchmarks/verify.py [--entries 1000000] [--templates 20]

The store is built in a temporary folder: a few incidents declared through the door and taken in by a real engine
pass (their alerts written as .eml files), then cloned by plain SQL until the chain holds N entries (benchmarks/bulk.py:
the clones' entries are hashed with the project's own function and the chain verifies). To keep the store near 1 GB
instead of several, the clones carry no outbox rows (the rendered mails), so their delivery entries attest no
message: a store of real deliveries has more fields to compare than this one.
Timed: `models.timeline.verify_chain` alone in one read transaction; then the whole of `incidents verify` as it runs
(models.verification), in a process of its own, its start not counted: over a large store, two processes each check a
span of the chain and judge half of the records against what the entries attest (models.attestation; the clones'
attestations name the clones' records), each entry's incident against the one its hash names, and the attachment
files; then the command itself, `incidents verify`, as a whole process.
"""

import argparse
import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pendulum  # noqa: E402

from benchmarks.bulk import clone_incidents, declare, incident_ids, use_store  # noqa: E402
from flows.steps import engine_pass_bare  # noqa: E402
from models.db import read_scope  # noqa: E402
from models.timeline import verify_chain  # noqa: E402

NOW = pendulum.parse("2026-11-20T10:00:00+01:00")
AUDITOR = "audit-ent@ac-nancy-metz.example.org"  # the académie's auditor reads every incident
RUNS = 3  # of the whole check: this machine's speed varies by a quarter from one minute to the next


def raw_verify(database: Path) -> tuple[bool, int]:
    """The same checks with the standard library alone: sequence, link, and SHA-256 of the canonical JSON."""
    connection = sqlite3.connect(database)
    prev, expected = "0" * 64, 1
    cursor = connection.execute("SELECT seq, incident_ref, occurred_at, recorded_at, actor, party, kind, payload, "
                                "prev_hash, hash FROM timeline_entry ORDER BY seq")
    while rows := cursor.fetchmany(5000):
        for seq, ref, occurred, recorded, actor, party, kind, payload, prev_hash, stored in rows:
            fields = {"seq": seq, "incident_ref": ref, "occurred_at": f"{occurred[:10]}T{occurred[11:]}Z",
                      "recorded_at": f"{recorded[:10]}T{recorded[11:]}Z", "actor": actor, "party": party,
                      "kind": kind, "payload": json.loads(payload), "prev_hash": prev_hash}
            canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            if seq != expected or prev_hash != prev or hashlib.sha256(canonical.encode()).hexdigest() != stored:
                return False, expected - 1
            prev, expected = stored, expected + 1
    connection.close()
    return True, expected - 1


# Timed in a process of its own that imports what the command imports: the second process of a large store's check
# imports its parent's main module again, which here would be this benchmark and its store builder.
MEASURED = """
import resource, sys, time
from models.verification import verify_store
started = time.perf_counter()
check = verify_store(sys.argv[1])
elapsed = time.perf_counter() - started
if not check.chain.ok or check.problems():
    raise SystemExit(f"the records do not match the timeline: {check.problems()[:5]}")
peaks = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(elapsed, *peaks)
"""


def verify_as_the_command_does(database: Path) -> tuple[float, str]:
    """The whole of `incidents verify` as it runs (models.verification), its process start not counted: the time,
    and the peak memory of its two processes."""
    measured = subprocess.run([sys.executable, "-c", MEASURED, f"sqlite:///{database}"], capture_output=True,
                              text=True, cwd=ROOT)
    if measured.returncode != 0:
        raise SystemExit(measured.stdout + measured.stderr)
    elapsed, first, second = measured.stdout.split()
    return float(elapsed), f"{int(first) / 1024:.0f} MiB and {int(second) / 1024:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000, help="timeline entries (default 1000000)")
    parser.add_argument("--templates", type=int, default=20, help="incidents built through the door (default 20)")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    database = use_store(workdir)
    started = time.perf_counter()
    declare(options.templates, NOW, personal_data="yes", categories=("vendor", "personal_data"))
    asyncio.run(engine_pass_bare(NOW))
    templates = incident_ids()
    with sqlite3.connect(database) as connection:
        existing = connection.execute("SELECT count(*) FROM timeline_entry").fetchone()[0]
        per_round = connection.execute("SELECT count(*) FROM timeline_entry WHERE incident_id IS NOT NULL") \
            .fetchone()[0]
    copies = max(0, -(-(options.entries - existing) // per_round))
    clone_incidents(templates, copies, with_outbox=False)
    print(f"store built in {time.perf_counter() - started:.1f} s ({database}, "
          f"{os.path.getsize(database) / 2**20:.0f} MiB)")
    os.sync()  # the store just written: on disk before anything is timed, not while

    started = time.perf_counter()
    with read_scope() as session:
        report = verify_chain(session)
    project = time.perf_counter() - started
    started = time.perf_counter()
    raw_ok, raw_count = raw_verify(database)
    raw = time.perf_counter() - started
    if not (report.ok and raw_ok and report.entries == raw_count):
        raise SystemExit(f"the chain does not verify: {report}, raw {raw_ok} at {raw_count}")
    runs = sorted(verify_as_the_command_does(database) for _ in range(RUNS))
    whole, peak = runs[RUNS // 2]
    started = time.perf_counter()
    command = subprocess.run([str(Path(sys.executable).parent / "incidents"), "verify"], capture_output=True,
                             text=True, env={**os.environ, "INCIDENTS_ACTOR": AUDITOR})
    whole_process = time.perf_counter() - started
    if command.returncode != 0:
        raise SystemExit(f"incidents verify failed: {command.stdout}{command.stderr}")

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\n| verify over {report.entries:,} entries | time | per entry |")
    print("| --- | --- | --- |")
    print(f"| verify_chain (project) | {project:.2f} s | {project / report.entries * 1e6:.1f} µs |")
    print(f"| sqlite3 + json + hashlib | {raw:.2f} s | {raw / report.entries * 1e6:.1f} µs |")
    print(f"| ratio | **{project / raw:.2f}** | |")
    print(f"| `incidents verify` (models.verification): the chain, and every record against its attestations, "
          f"median of {RUNS} (from {runs[0][0]:.2f} to {runs[-1][0]:.2f} s) | {whole:.2f} s | "
          f"{whole / report.entries * 1e6:.1f} µs |")
    print(f"| the same, as a whole process (`incidents verify`, its start included) | {whole_process:.2f} s | |")
    print(f"\npeak memory of each of its two processes: {peak}")
    print(f"\nload average after the run: {load} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
