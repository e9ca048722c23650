"""Trial (PostgreSQL only): the schedule that deadlocked — one pass taking deadline steps (an obligation's row, then
the timeline's chain head) while another records deliveries that meet obligations (the chain head, then the
obligation's row).

    uv run python -m trials.deadlock [--size R] [--declarations N] [--postgres URL]

Each of R repetitions (default 20), in one store, ten days of replayed time after the previous: N declarations
(default 10) whose alert's 50 % step falls a few minutes later, and passes while the relay answers every DATA with
a 451, so that the alerts stay undelivered (four attempts, not enough to escalate). Then, the relay back but slow
(0.5 s per DATA), two pass processes: the deliverer, acting once the alerts are due again, delivers them (each
last alert mail meets its obligation); the stepper, released once the deliverer has delivered a message and acting
as of an instant when the 50 % step is due but the alerts are not, takes the deadline steps of the same
obligations meanwhile.
Without --postgres, a PostgreSQL server is started from its binaries for the run.

It holds when no pass process exits non-zero or prints a traceback, and no Message-ID reaches the relay twice.
"""

import sys
from dataclasses import dataclass

import pendulum

from settings.parties import load_parties
from trials.common import (
    T0,
    PassOutcome,
    PassProcess,
    declare,
    duplicates,
    fresh_store,
    pass_in_process,
    postgres_or_server,
    relay_env,
    report,
    retry_instants,
    trial_arguments,
    wait_for_arrivals,
)
from trials.postgres import free_port
from trials.relay import Mode, Relay, wait_until

BETWEEN_REPETITIONS = pendulum.duration(days=10)
# Declared at T, aware 23 h 51 min before: the alert's 50 % step falls at T + 9 min. The alerts fail at T, T + 1, + 3
# and + 7 min (four attempts, not enough to escalate), so they are due again at T + 15 min. The stepper acts as of
# T + 12 min (the step is due, the alerts are not); the deliverer as of T + 16 min (the alerts are due).
AWARE_BEFORE = pendulum.duration(hours=23, minutes=51)
STEPPER_AT = pendulum.duration(minutes=12)
DELIVERER_AT = pendulum.duration(minutes=16)
SLOW_DATA_SECONDS = 0.5


@dataclass
class DeadlockCounts:
    repetitions: int
    processes: int
    failed: int  # pass processes that exited non-zero or printed a traceback
    deadlock_reports: int  # of which mention a deadlock
    received: int
    duplicates: int  # receptions beyond the first
    steps_taken: int  # deadline steps the concurrent passes took
    first_failure: str  # the end of the first failing process's stderr, if any

    @property
    def holds(self) -> bool:
        return self.failed == 0 and self.duplicates == 0

    def lines(self) -> list[str]:
        lines = [f"répétitions : {self.repetitions}",
                 f"passes concurrentes : {self.processes}",
                 f"étapes d'échéance prises par les passes concurrentes : {self.steps_taken}",
                 f"passes en erreur (code non nul ou traceback) : {self.failed}",
                 f"dont pour un interblocage (deadlock) : {self.deadlock_reports}",
                 f"réceptions par le relais : {self.received}",
                 f"doublons (réceptions en trop) : {self.duplicates}"]
        if self.first_failure:
            lines.append(f"première erreur : {self.first_failure}")
        return lines


def run(size: int = 20, postgres: str = "", declarations: int = 10) -> DeadlockCounts:
    """`postgres`: the URL of a PostgreSQL server whose user may create databases."""
    if not postgres.startswith("postgresql"):
        raise ValueError("the deadlock trial runs on PostgreSQL only: give the URL of a server")
    relay = Relay("trial", free_port())
    outcomes: list[PassOutcome] = []
    # One SMTP connection: the deliverer must still be delivering while the stepper takes its steps (over four, the
    # few alerts are all delivered, and their obligations met, before the stepper starts).
    with relay, fresh_store(postgres, **relay_env(relay), INCIDENTS_SMTP_CONNECTIONS="1") as store:
        def pair(repetition: int) -> tuple[PassProcess, PassProcess]:
            at = T0 + BETWEEN_REPETITIONS * repetition
            return PassProcess(store, at + DELIVERER_AT), PassProcess(store, at + STEPPER_AT)

        upcoming = pair(0)  # each pair imports the engine ahead of its turn; it acts only when released
        for repetition in range(size):
            at, passes = T0 + BETWEEN_REPETITIONS * repetition, upcoming
            relay.mode, relay.delay = Mode.REFUSE, 0.0
            declare(declarations, at, start=repetition * declarations, aware_before=AWARE_BEFORE)
            for attempt_at in failing_attempts(at):  # the alerts stay undelivered
                pass_in_process(attempt_at)
            relay.mode, relay.delay = Mode.ACCEPT, SLOW_DATA_SECONDS
            if repetition + 1 < size:
                upcoming = pair(repetition + 1)
            outcomes += concurrent_passes(passes, relay)
        failures = [outcome for outcome in outcomes if outcome.crashed]
        arrivals = relay.arrivals()
        return DeadlockCounts(
            repetitions=size, processes=len(outcomes), failed=len(failures),
            deadlock_reports=sum(1 for outcome in failures if "deadlock" in outcome.stderr.lower()),
            received=len(arrivals), duplicates=sum(duplicates(arrivals).values()),
            steps_taken=sum(len(outcome.result["steps"]) for outcome in outcomes if outcome.result),
            first_failure=_last_line(failures[0]) if failures else "")


def failing_attempts(start: pendulum.DateTime) -> list[pendulum.DateTime]:
    """The retries of a message first tried at `start`, one short of escalating its failure."""
    return retry_instants(start, load_parties().engine.retry_policy.escalate_after_attempts - 1)


def concurrent_passes(passes: tuple[PassProcess, PassProcess], relay: Relay) -> list[PassOutcome]:
    """Release the deliverer, then the stepper once the relay has accepted one message more; wait for both."""
    first, second = passes
    try:
        accepted = relay.accepted
        first.release()
        wait_for_arrivals(relay, accepted + 1, first, timeout=180)
        second.release()
        wait_until(lambda: not first.running and not second.running, 600, "both passes to end")
        return [first.finish(), second.finish()]
    finally:
        first.kill()
        second.kill()


def _last_line(outcome: PassOutcome) -> str:
    lines = [line for line in outcome.stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"code de sortie {outcome.returncode}"


def main() -> int:
    arguments = trial_arguments(__doc__ or "", 20, "repetitions of the schedule")
    arguments.add_argument("--declarations", type=int, default=10, help="declarations per repetition (default 10)")
    options = arguments.parse_args()
    with postgres_or_server(options.postgres) as server:
        return report(run(options.size, server, options.declarations))


if __name__ == "__main__":
    sys.exit(main())
