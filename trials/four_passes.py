"""Trial: four engine passes started together over the same queued messages, each its own OS process, on SQLite and
(with --postgres) PostgreSQL.

    uv run python -m trials.four_passes [--size N] [--passes P] [--postgres URL]

N messages (default 500: declarations taken in, each queuing two alerts and the declarant's receipt) wait in the
outbox of a fresh store; P pass processes (default 4) import the engine, then are released at the same moment,
each acting as of the same instant. Then one clean pass. It holds when the relay received each Message-ID exactly
once, nothing is left undelivered, no pass crashed, the work was shared (more than one pass delivered), and the
timeline's chain verifies.
"""

import math
import sys
from dataclasses import dataclass, field

from flows.steps import propose_scopes, queued_incident_ids
from models.db import read_scope
from models.timeline import verify_chain
from trials.common import (
    T0,
    PassProcess,
    declare,
    duplicates,
    fresh_store,
    lost,
    pass_in_process,
    relay_env,
    report,
    stored_messages,
    trial_arguments,
)
from trials.postgres import free_port
from trials.relay import Relay

MESSAGES_PER_DECLARATION = 3  # two alerts to the académie, the declarant's receipt


@dataclass
class PassesRun:
    store: str
    messages: int
    received: int
    duplicates: int  # receptions beyond the first, over all Message-IDs
    lost: int
    delivered_by_pass: list[int]
    crashed: int
    chain_ok: bool
    first_crash: str  # the end of the first crashed pass's error output

    @property
    def holds(self) -> bool:
        sharing = sum(1 for delivered in self.delivered_by_pass if delivered) > 1
        return (self.duplicates == 0 and self.lost == 0 and self.crashed == 0 and self.chain_ok and sharing
                and self.received == self.messages)

    def lines(self) -> list[str]:
        shares = ", ".join(str(delivered) for delivered in self.delivered_by_pass)
        return [f"{self.store} : messages en file {self.messages}, reçus par le serveur SMTP {self.received}",
                f"{self.store} : remis par chacune des {len(self.delivered_by_pass)} passes : {shares}",
                f"{self.store} : doublons (réceptions en trop d'un même Message-ID) : {self.duplicates}",
                f"{self.store} : messages perdus : {self.lost}",
                f"{self.store} : passes en erreur (code non nul ou traceback) : {self.crashed}",
                f"{self.store} : chaîne de la chronologie vérifiée : {'oui' if self.chain_ok else 'NON'}",
                *([f"{self.store} : erreur de la première passe en erreur :", self.first_crash]
                  if self.first_crash else [])]


@dataclass
class PassesCounts:
    runs: list[PassesRun] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return bool(self.runs) and all(run.holds for run in self.runs)

    def lines(self) -> list[str]:
        return [line for run in self.runs for line in run.lines()]


def run(size: int = 500, passes: int = 4, postgres: str | None = None, sqlite: bool = True) -> PassesCounts:
    """On SQLite (unless `sqlite` is False), then on the PostgreSQL server of `postgres` if given."""
    counts = PassesCounts()
    for server in ([None] if sqlite else []) + ([postgres] if postgres else []):
        counts.runs.append(run_one(size, passes, server))
    return counts


def run_one(size: int, passes: int, postgres: str | None) -> PassesRun:
    relay = Relay("trial", free_port())
    with relay, fresh_store(postgres, **relay_env(relay)) as store:
        declare(math.ceil(size / MESSAGES_PER_DECLARATION), T0)
        propose_scopes(queued_incident_ids(), T0)  # taken in: every message is queued, none sent yet
        queued = len(stored_messages())
        at = T0.add(minutes=1)
        processes = [PassProcess(store, at) for _ in range(passes)]
        try:
            for process in processes:
                process.wait_ready()
            for process in processes:
                process.release()
            outcomes = [process.finish(timeout=900) for process in processes]
        finally:
            for process in processes:
                process.kill()
        pass_in_process(at.add(hours=1))  # the final clean pass: nothing should be left for it
        stored, arrivals = stored_messages(), relay.arrivals()
        with read_scope() as session:
            chain_ok = verify_chain(session).ok
        return PassesRun(store.kind, queued, len(arrivals), sum(duplicates(arrivals).values()),
                         len(lost(stored, arrivals)), [outcome.delivered for outcome in outcomes],
                         sum(1 for outcome in outcomes if outcome.crashed), chain_ok,
                         next((outcome.stderr[-3000:] for outcome in outcomes if outcome.crashed), ""))


def main() -> int:
    arguments = trial_arguments(__doc__ or "", 500, "queued messages (three per declaration)")
    arguments.add_argument("--passes", type=int, default=4, help="pass processes started together (default 4)")
    options = arguments.parse_args()
    return report(run(options.size, options.passes, options.postgres))


if __name__ == "__main__":
    sys.exit(main())
