"""Trial: two engine passes overlapping, each its own OS process, on SQLite and (with --postgres) PostgreSQL.

    uv run python -m trials.overlap [--size N] [--delay S] [--postgres URL]

N declarations (default 30, three messages each) wait in the outbox of a fresh store; the SMTP relay answers each
DATA after `--delay` seconds (default 0.1), so that a pass takes a while. Two schedules:

- lease: the claim lease is short (INCIDENTS_CLAIM_LEASE_SECONDS=2); both passes act as of now (the wall clock), and
  the second starts once the first has been delivering for longer than the lease;
- instants: the first pass acts as of T, the second as of T + 5 minutes, started once the first has delivered its
  first message.

The relay is slowed further if need be, so that the first pass cannot end before the second starts, however fast the
machine and however many connections a pass opens.

Then one clean pass an hour later. It holds when no Message-ID reaches the relay twice, no message is left
undelivered, the passes did overlap, and no pass crashed.
"""

import math
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum

import pendulum

from settings.env import smtp_connections
from trials.common import (
    T0,
    PassOutcome,
    PassProcess,
    Store,
    declare,
    duplicates,
    fresh_store,
    lost,
    pass_in_process,
    relay_env,
    report,
    stored_messages,
    trial_arguments,
    wait_for_arrivals,
)
from trials.postgres import free_port
from trials.relay import Relay, wait_until

LEASE_SECONDS = 2
LEASE_MARGIN = 0.5  # seconds the first pass delivers beyond its lease before the second starts
MESSAGES_PER_DECLARATION = 3  # two alerts and the declarant's receipt
FIRST_ARRIVAL_TIMEOUT = 180  # the first pass's process start and first delivery, on a loaded machine


class Schedule(StrEnum):
    LEASE = "lease"  # the first pass outlives its claim lease
    INSTANTS = "instants"  # --at instants 5 minutes apart


@dataclass
class OverlapRun:
    store: str
    schedule: Schedule
    messages: int
    received: int
    duplicates: int  # receptions beyond the first, over all Message-IDs
    duplicated_messages: int  # Message-IDs received more than once
    lost: int
    overlap_seconds: float  # how long both passes were running once the second was released
    crashed: int  # pass processes that exited non-zero or printed a traceback

    @property
    def holds(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and self.overlap_seconds > 0 and self.crashed == 0

    def lines(self) -> list[str]:
        name = f"{self.store}, {self.schedule}"
        return [f"{name} : messages {self.messages}, reçus {self.received}",
                f"{name} : doublons (Message-ID reçu plus d'une fois, réceptions en trop) : {self.duplicates} "
                f"({self.duplicated_messages} messages)",
                f"{name} : messages perdus après la passe finale : {self.lost}",
                f"{name} : chevauchement des deux passes : {self.overlap_seconds:.1f} s",
                f"{name} : passes en erreur (code non nul ou traceback) : {self.crashed}"]


@dataclass
class OverlapCounts:
    runs: list[OverlapRun] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(run.duplicates for run in self.runs)

    @property
    def lost(self) -> int:
        return sum(run.lost for run in self.runs)

    @property
    def holds(self) -> bool:
        return bool(self.runs) and all(run.holds for run in self.runs)

    def lines(self) -> list[str]:
        return [line for run in self.runs for line in run.lines()]


def run(size: int = 30, postgres: str | None = None, delay: float = 0.1, sqlite: bool = True) -> OverlapCounts:
    """Each schedule on SQLite (unless `sqlite` is False), then on the PostgreSQL server of `postgres` if given."""
    counts = OverlapCounts()
    servers = ([None] if sqlite else []) + ([postgres] if postgres else [])
    for server in servers:
        for schedule in Schedule:
            counts.runs.append(run_one(size, schedule, server, delay))
    return counts


def run_one(size: int, schedule: Schedule, postgres: str | None, delay: float) -> OverlapRun:
    relay = Relay("trial", free_port(), delay=relay_delay(schedule, size, delay))
    lease = LEASE_SECONDS if schedule is Schedule.LEASE else None
    with relay, fresh_store(postgres, **relay_env(relay, lease_seconds=lease)) as store:
        start = pendulum.now("UTC") if schedule is Schedule.LEASE else T0
        declare(size, start)
        first_at, second_at = (None, None) if schedule is Schedule.LEASE else (T0, T0.add(minutes=5))
        outcomes, overlap = overlapping_passes(store, relay, first_at, second_at, lease)
        pass_in_process(start.add(hours=1))  # the final clean pass
        stored, arrivals = stored_messages(), relay.arrivals()
        extra = duplicates(arrivals)
        return OverlapRun(store.kind, schedule, len(stored), len(arrivals), sum(extra.values()), len(extra),
                          len(lost(stored, arrivals)), overlap, sum(1 for outcome in outcomes if outcome.crashed))


def relay_delay(schedule: Schedule, size: int, delay: float) -> float:
    """The relay's delay per DATA: long enough that the first pass's deliveries after its first one take three times
    the wait before the second starts (with a lease, the lease and its margin; with instants, a second at most). A
    relay's delay bounds a pass's length from below, where the machine's speed does not: a fast minute once let the
    first pass end before the second started."""
    wait = LEASE_SECONDS + LEASE_MARGIN if schedule is Schedule.LEASE else 1.0
    later_rounds = max(1, math.ceil(size * MESSAGES_PER_DECLARATION / smtp_connections()) - 1)
    return max(delay, 3 * wait / later_rounds)


def overlapping_passes(store: Store, relay: Relay, first_at: pendulum.DateTime | None,
                       second_at: pendulum.DateTime | None, lease: int | None) -> tuple[list[PassOutcome], float]:
    """Start two pass processes (both import the engine at once); release the first, then the second once the
    first has delivered one message and, with a lease, once the first has been delivering for longer than it."""
    first, second = PassProcess(store, first_at), PassProcess(store, second_at)
    try:
        first.release()
        wait_for_arrivals(relay, 1, first, FIRST_ARRIVAL_TIMEOUT)
        if lease is not None and first.running:
            delivering_since = relay.arrivals()[0].at
            wait_until(lambda: time.monotonic() > delivering_since + lease + LEASE_MARGIN or not first.running,
                       lease + 10, "the first pass to outlive its lease")
        second.release()
        released, overlap = time.monotonic(), 0.0
        if first.running:
            wait_until(lambda: not first.running or not second.running, 600, "either pass to end")
            overlap = time.monotonic() - released
        return [first.finish(), second.finish()], overlap
    finally:
        first.kill()
        second.kill()


def main() -> int:
    arguments = trial_arguments(__doc__ or "", 30, "declarations (two alerts and a receipt each)")
    arguments.add_argument("--delay", type=float, default=0.1, help="seconds the relay takes per DATA (default 0.1)")
    options = arguments.parse_args()
    return report(run(options.size, options.postgres, options.delay))


if __name__ == "__main__":
    sys.exit(main())
