"""Trial: passes killed with SIGKILL while delivering, then clean passes until quiet.

    uv run python -m trials.crash [--size N] [--kills K] [--seed S] [--postgres URL]

N declarations (default 250, two alert mails each: 500 messages) are delivered by successive pass processes, one
at a time, each acting 5 minutes after the previous; K of them (default 20) are killed at a random moment while
delivering (after a random number of messages accepted by the relay, plus up to 50 ms). Then clean passes run until
quiet. The claim lease is short (INCIDENTS_CLAIM_LEASE_SECONDS=2), so that a killed pass's claims are soon taken over.

A kill can lose the record of at most the message the relay accepted last before it: that one may be sent again
(an explained duplicate). It holds when nothing is lost, every duplicate is so explained, and no pass that was not
killed failed.
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
from trials.relay import Relay

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
    explained: int  # of these, the last message accepted before a kill, once per kill
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
                f"doublons expliqués (dernier message accepté avant une mise à mort) : {self.explained}",
                f"doublons inexpliqués (doit être 0) : {self.unexplained}",
                f"passes non tuées en erreur : {self.failed_passes}"]


@dataclass
class KillLoop:
    passes: int = 0
    failed: int = 0  # passes not killed that failed
    last_before_kill: list[str] = field(default_factory=list)  # the Message-ID the relay accepted last before each
    at: pendulum.DateTime = T0  # the instant the next pass acts as of


def run(size: int = 250, kills: int = 20, seed: int = 2026, postgres: str | None = None) -> CrashCounts:
    relay = Relay("trial", free_port())
    with relay, fresh_store(postgres, **relay_env(relay, lease_seconds=LEASE_SECONDS)) as store:
        declare(size, T0)
        loop = kill_passes(store, relay, len(stored_messages()), kills, random.Random(seed))
        clean = passes_until_quiet(pass_in_process, loop.at, BETWEEN_PASSES, pause=LEASE_SECONDS + 1)
        stored, arrivals = stored_messages(), relay.arrivals()
        extra = duplicates(arrivals)
        explained = sum(min(extra[message_id], times) for message_id, times in Counter(loop.last_before_kill).items())
        return CrashCounts(messages=len(stored), kills=len(loop.last_before_kill), passes=loop.passes,
                           clean_passes=clean, received=len(arrivals), lost=len(lost(stored, arrivals)),
                           duplicates=sum(extra.values()), explained=explained, failed_passes=loop.failed)


def kill_passes(store: Store, relay: Relay, expected: int, kills: int, rng: random.Random) -> KillLoop:
    """Pass processes one at a time, each killed after a random number of messages accepted (spread so that
    `kills` of them die before all `expected` messages are delivered), until `kills` kills or all delivered."""
    loop = KillLoop()
    upcoming = PassProcess(store, loop.at)
    try:
        while len(loop.last_before_kill) < kills:
            remaining = expected - len({arrival.message_id for arrival in relay.arrivals()})
            if remaining <= 0:
                break
            current, loop.at = upcoming, loop.at + BETWEEN_PASSES
            before = relay.accepted
            target = before + rng.randint(1, max(1, remaining // (kills - len(loop.last_before_kill) + 1)))
            current.release()
            loop.passes += 1
            upcoming = PassProcess(store, loop.at)  # imports while the current pass delivers; acts when released
            wait_for_arrivals(relay, target, current, timeout=300)
            if current.running:
                time.sleep(rng.uniform(0, JITTER_SECONDS))  # a random moment while it delivers
                current.kill()
            outcome = current.finish()
            relay.wait_idle(timeout=30)  # whatever the killed pass handed over has arrived
            if outcome.killed:  # "": killed before the relay accepted anything from it
                loop.last_before_kill.append(relay.arrivals()[-1].message_id if relay.accepted > before else "")
            loop.failed += outcome.crashed
    finally:
        upcoming.kill()  # never released: it did nothing
        upcoming.finish()
    return loop


def main() -> int:
    arguments = trial_arguments(__doc__ or "", 250, "declarations (two alert mails each)")
    arguments.add_argument("--kills", type=int, default=20, help="passes killed while delivering (default 20)")
    arguments.add_argument("--seed", type=int, default=2026, help="seed of the kill moments (default 2026)")
    options = arguments.parse_args()
    return report(run(options.size, options.kills, options.seed, options.postgres))


if __name__ == "__main__":
    sys.exit(main())
