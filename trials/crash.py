"""Trial: passes killed with SIGKILL while delivering, then clean passes until quiet.

    uv run python -m trials.crash [--size N] [--kills K] [--seed S] [--postgres URL]

N declarations (default 250, three messages each: 750) are delivered by successive pass processes, one
at a time, each acting 5 minutes after the previous; K of them (default 20) are killed at a random moment while
delivering (after a random number of messages accepted by the relay, plus up to 50 ms). Then clean passes run until
quiet. The claim lease is short (INCIDENTS_CLAIM_LEASE_SECONDS=2), so that a killed pass's claims are soon taken over.

A kill can lose the records of the messages the relay had accepted from that pass and that it had not yet recorded
as delivered (its messages in flight: at most one per SMTP connection, plus those waiting for their group's
record): those may be sent again (explained duplicates).
It holds when nothing is lost, every duplicate is so explained, and no pass that was not killed failed.
"""

import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import pendulum

from trials.common import (
    T0,
    PassProcess,
    Store,
    declare,
    duplicates,
    fresh_store,
    lost,
    pass_in_process,
    passes_until_quiet,
    relay_env,
    report,
    stored_messages,
    trial_arguments,
    wait_for_arrivals,
)
from trials.postgres import free_port
from trials.relay import Arrival, Relay

LEASE_SECONDS = 2
BETWEEN_PASSES = pendulum.duration(minutes=5)  # longer than any lease, in replayed time
JITTER_SECONDS = 0.05


@dataclass
class CrashCounts:
    messages: int
    kills: int
    passes: int  # pass processes released, killed or not
    clean_passes: int  # in-process passes after the kills, until quiet
    received: int
    lost: int
    duplicates: int  # receptions beyond the first
    in_flight: int  # messages the relay had accepted from a killed pass that it had not recorded as delivered
    explained: int  # of the duplicates, those of messages in flight at a kill
    failed_passes: int  # pass processes not killed that exited non-zero or printed a traceback

    @property
    def unexplained(self) -> int:
        return self.duplicates - self.explained

    @property
    def holds(self) -> bool:
        return self.kills > 0 and self.lost == 0 and self.unexplained == 0 and self.failed_passes == 0

    def lines(self) -> list[str]:
        return [f"messages : {self.messages}",
                f"passes tuées (SIGKILL) : {self.kills} sur {self.passes} passes",
                f"passes propres ensuite jusqu'au calme : {self.clean_passes}",
                f"réceptions par le relais : {self.received}",
                f"messages perdus (doit être 0) : {self.lost}",
                f"doublons (réceptions en trop) : {self.duplicates}",
                f"messages en vol aux mises à mort (acceptés par le relais, remise non consignée) : {self.in_flight}",
                f"doublons expliqués (messages en vol à une mise à mort) : {self.explained}",
                f"doublons inexpliqués (doit être 0) : {self.unexplained}",
                f"passes non tuées en erreur : {self.failed_passes}"]


@dataclass
class KillLoop:
    passes: int = 0
    failed: int = 0  # passes not killed that failed
    kills: int = 0
    in_flight: list[str] = field(default_factory=list)  # Message-IDs accepted, not recorded, when a pass was killed
    at: pendulum.DateTime = T0  # the instant the next pass acts as of


def run(size: int = 250, kills: int = 20, seed: int = 2026, postgres: str | None = None) -> CrashCounts:
    relay = Relay("trial", free_port())
    with relay, fresh_store(postgres, **relay_env(relay, lease_seconds=LEASE_SECONDS)) as store:
        declare(size, T0)
        loop = kill_passes(store, relay, len(stored_messages()), kills, random.Random(seed))
        clean = passes_until_quiet(pass_in_process, loop.at, BETWEEN_PASSES, pause=LEASE_SECONDS + 1)
        stored, arrivals = stored_messages(), relay.arrivals()
        extra = duplicates(arrivals)
        explained = sum(min(extra[message_id], times) for message_id, times in Counter(loop.in_flight).items())
        return CrashCounts(messages=len(stored), kills=loop.kills, passes=loop.passes,
                           clean_passes=clean, received=len(arrivals), lost=len(lost(stored, arrivals)),
                           duplicates=sum(extra.values()), in_flight=len(loop.in_flight), explained=explained,
                           failed_passes=loop.failed)


def kill_passes(store: Store, relay: Relay, expected: int, kills: int, rng: random.Random) -> KillLoop:
    """Pass processes one at a time, each killed after a random number of messages accepted (spread so that
    `kills` of them die before all `expected` messages are delivered), until `kills` kills or all delivered."""
    loop = KillLoop()
    upcoming = PassProcess(store, loop.at)
    try:
        while loop.kills < kills:
            remaining = expected - len({arrival.message_id for arrival in relay.arrivals()})
            if remaining <= 0:
                break
            current, loop.at = upcoming, loop.at + BETWEEN_PASSES
            before = relay.accepted
            target = before + rng.randint(1, max(1, remaining // (kills - loop.kills + 1)))
            current.release()
            loop.passes += 1
            upcoming = PassProcess(store, loop.at)  # imports while the current pass delivers; acts when released
            wait_for_arrivals(relay, target, current, timeout=300)
            if current.running:
                time.sleep(rng.uniform(0, JITTER_SECONDS))  # a random moment while it delivers
                current.kill()
            outcome = current.finish()
            relay.wait_idle(timeout=30)  # whatever the killed pass handed over has arrived
            if outcome.killed:
                loop.kills += 1
                loop.in_flight += in_flight(relay.arrivals()[before:])
            loop.failed += outcome.crashed
    finally:
        upcoming.kill()  # never released: it did nothing
        upcoming.finish()
    return loop


def in_flight(accepted_from_the_pass: list[Arrival]) -> list[str]:
    """Of the messages a killed pass handed to the relay, those the store does not say delivered: it died between
    the relay's acceptance and the record."""
    unrecorded = {message.message_id for message in stored_messages() if message.status != "sent"}
    return [arrival.message_id for arrival in accepted_from_the_pass if arrival.message_id in unrecorded]


def main() -> int:
    arguments = trial_arguments(__doc__ or "", 250, "declarations (two alerts and a receipt each)")
    arguments.add_argument("--kills", type=int, default=20, help="passes killed while delivering (default 20)")
    arguments.add_argument("--seed", type=int, default=2026, help="seed of the kill moments (default 2026)")
    options = arguments.parse_args()
    return report(run(options.size, options.kills, options.seed, options.postgres))


if __name__ == "__main__":
    sys.exit(main())
