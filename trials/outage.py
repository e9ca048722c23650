"""Trial: an outage of the primary SMTP relay across the 48-hour alert's whole clock.

    uv run python -m trials.outage [--size N] [--outage data|connection] [--postgres URL]

N declarations (default 20) are made while the primary relay is down (every DATA answered 451, or with
`--outage connection` every connection refused). Engine passes then step through the retry backoff and through the
alert's deadline steps (50 %, 75 %, 90 %, overdue), replaying instants across ~50 hours; then the relay comes back
and passes run until quiet. A fallback relay (INCIDENTS_SMTP_FALLBACK_HOST/PORT) accepts everything throughout.

It holds when every alert reaches each of its recipients exactly once, no reminder, escalation or overdue notice of
an alert arrives after that alert was delivered, at least one failure notice reached the fallback relay during the
outage, and nothing is left undelivered.
"""

import sys
import time
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

import pendulum
from sqlmodel import select

from models.db import session_scope
from models.obligation import Obligation
from policy.clocks import ObligationKind
from policy.steps import schedule
from settings.parties import load_parties
from trials.common import (
    T0,
    StoredMessage,
    alert_recipients,
    declare,
    fresh_store,
    lost,
    pass_in_process,
    passes_until_quiet,
    relay_env,
    report,
    retry_instants,
    stored_messages,
    trial_arguments,
)
from trials.postgres import free_port
from trials.relay import Arrival, Mode, Relay


class Outage(StrEnum):
    DATA = "data"  # the relay answers every DATA with a 451
    CONNECTION = "connection"  # the relay's port refuses connections


@dataclass
class OutageCounts:
    declarations: int
    alert_pairs: int  # (incident, recipient) pairs an alert is owed to
    alerts_once: int  # pairs that received their alert exactly once
    alerts_missing: int
    alerts_repeated: int
    step_mails_queued: int  # reminders, escalations, overdue notices of alert obligations in the outbox
    step_mails: int  # of these, received
    stale_step_mails: int  # of which received after their alert was delivered
    failure_notices_fallback: int  # delivery_failure mails the fallback relay received during the outage
    failure_notices_primary: int  # delivery_failure mails the primary relay received (after it came back)
    attempts_refused: int  # DATA answered 451 by the primary relay
    unknown_arrivals: int  # mails received whose Message-ID no outbox row carries
    passes_to_quiet: int
    lost: int  # messages undelivered once quiet

    @property
    def holds(self) -> bool:
        return (self.alerts_once == self.alert_pairs and self.stale_step_mails == 0
                and self.failure_notices_fallback >= 1 and self.lost == 0)

    def lines(self) -> list[str]:
        return [
            f"déclarations : {self.declarations}",
            f"alertes remises exactement une fois (incident, destinataire) : {self.alerts_once} / {self.alert_pairs}",
            f"alertes jamais remises : {self.alerts_missing}",
            f"alertes remises plusieurs fois : {self.alerts_repeated}",
            f"rappels, escalades et dépassements d'alerte mis en boîte d'envoi : {self.step_mails_queued}",
            f"rappels, escalades et dépassements d'alerte reçus : {self.step_mails}",
            f"dont reçus après la remise de l'alerte (doit être 0) : {self.stale_step_mails}",
            f"avis d'échec reçus par le relais de secours pendant la panne (au moins 1) : "
            f"{self.failure_notices_fallback}",
            f"avis d'échec reçus par le relais principal : {self.failure_notices_primary}",
            f"tentatives refusées par le relais principal (451) : {self.attempts_refused}",
            f"courriels reçus inconnus du registre : {self.unknown_arrivals}",
            f"passes après le retour du relais jusqu'au calme : {self.passes_to_quiet}",
            f"messages non remis à la fin (doit être 0) : {self.lost}",
        ]


def outage_instants(start: pendulum.DateTime) -> list[pendulum.DateTime]:
    """The passes during the outage: at each retry of the backoff until a message has failed once more than it
    takes to escalate, then a minute after each deadline step of the alert obligations (read from the store)."""
    engine = load_parties().engine
    instants = retry_instants(start, engine.retry_policy.escalate_after_attempts + 2)
    with session_scope() as session:
        clocks = {(pendulum.instance(anchor), pendulum.instance(due)) for anchor, due in session.exec(
            select(Obligation.anchor_at, Obligation.due_at).where(
                Obligation.kind == ObligationKind.CROSS_PARTY_ALERT))}
    steps = {step.at.add(minutes=1) for anchor, due in clocks for step in schedule(anchor, due, engine.step_policy)}
    return sorted({*instants, *steps})


def run(size: int = 20, outage: Outage = Outage.DATA, postgres: str | None = None) -> OutageCounts:
    primary = Relay("primary", free_port(), mode=Mode.REFUSE)
    fallback = Relay("fallback", free_port())
    with primary, fallback, fresh_store(postgres, **relay_env(primary, fallback)):
        if outage is Outage.CONNECTION:
            primary.stop()
        refs = declare(size, T0)
        instants = outage_instants(T0)
        for at in instants:
            pass_in_process(at)
        back = time.monotonic()
        primary.mode = Mode.ACCEPT
        primary.start()
        passes = passes_until_quiet(pass_in_process, instants[-1].add(hours=2), pendulum.duration(hours=1))
        return count(refs, primary, fallback, back, passes)


def count(refs: list[str], primary: Relay, fallback: Relay, back: float, passes: int) -> OutageCounts:
    stored = stored_messages()
    by_message_id = {message.message_id: message for message in stored}
    arrivals = sorted(primary.arrivals() + fallback.arrivals(), key=lambda arrival: arrival.at)

    def template(arrival: Arrival) -> str | None:
        message = by_message_id.get(arrival.message_id)
        return message.template if message else arrival.template

    alerts = Counter((arrival.ref, recipient) for arrival in arrivals if template(arrival) == "cross_party_alert"
                     for recipient in arrival.recipients)
    owed = [(ref, recipient) for ref in refs for recipient in alert_recipients()]
    met = alerts_met(stored, arrivals)
    steps = [(arrival, by_message_id[arrival.message_id]) for arrival in arrivals
             if arrival.message_id in by_message_id and by_message_id[arrival.message_id].template == "deadline_step"
             and by_message_id[arrival.message_id].obligation_kind == ObligationKind.CROSS_PARTY_ALERT]
    stale = [arrival for arrival, message in steps
             if message.obligation_id in met and arrival.at > met[message.obligation_id]]
    return OutageCounts(
        declarations=len(refs), alert_pairs=len(owed),
        alerts_once=sum(1 for pair in owed if alerts[pair] == 1),
        alerts_missing=sum(1 for pair in owed if alerts[pair] == 0),
        alerts_repeated=sum(1 for pair in owed if alerts[pair] > 1),
        step_mails_queued=sum(1 for message in stored if message.template == "deadline_step"
                              and message.obligation_kind == ObligationKind.CROSS_PARTY_ALERT),
        step_mails=len(steps), stale_step_mails=len(stale),
        failure_notices_fallback=sum(1 for arrival in fallback.arrivals()
                                     if arrival.at < back and template(arrival) == "delivery_failure"),
        failure_notices_primary=sum(1 for arrival in primary.arrivals() if template(arrival) == "delivery_failure"),
        attempts_refused=primary.refusals,
        unknown_arrivals=sum(1 for arrival in arrivals if arrival.message_id not in by_message_id),
        passes_to_quiet=passes, lost=len(lost(stored, arrivals)),
    )


def alerts_met(stored: list[StoredMessage], arrivals: list[Arrival]) -> dict[int, float]:
    """When each alert obligation was met, as the relays saw it: the arrival of the first copy of the last of
    its alert mails (arrivals in order of time)."""
    owed: dict[int, set[str]] = {}
    for message in stored:
        if message.template == "cross_party_alert" and message.obligation_id is not None:
            owed.setdefault(message.obligation_id, set()).add(message.message_id)
    obligation_of = {message_id: obligation for obligation, ids in owed.items() for message_id in ids}
    met: dict[int, float] = {}
    for arrival in arrivals:
        obligation = obligation_of.get(arrival.message_id)
        if obligation is None or obligation in met:
            continue
        owed[obligation].discard(arrival.message_id)
        if not owed[obligation]:
            met[obligation] = arrival.at
    return met


def main() -> int:
    arguments = trial_arguments(__doc__ or "", 20, "declarations made during the outage")
    arguments.add_argument("--outage", type=Outage, choices=list(Outage), default=Outage.DATA,
                           help="data: every DATA answered 451 (default); connection: connections refused")
    options = arguments.parse_args()
    return report(run(options.size, options.outage, options.postgres))


if __name__ == "__main__":
    sys.exit(main())
