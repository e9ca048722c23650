"""The one door: every change to an incident, an obligation, a decision or the timeline is a command executed here.

`execute` works inside the caller's transaction (models.db.session_scope), so that the change, its timeline entries
and its outbox rows are committed together or not at all; `run` is that transaction, run again from the start when
PostgreSQL rolls it back for a deadlock or a serialization failure. A refused command raises before writing anything.

Lock order, for every transaction that writes:
  1. the incident's row (here, before anything else of it is read for the decision), so that everything about one
     incident is written by one transaction at a time;
  2. the obligation the command touches (a step, or the obligation a delivered message may meet);
  3. the outbox messages (the one delivered or failed; those a met obligation cancels; those a command queues);
  4. the chain head (`models.timeline.append_entry`), held from the first timeline entry until commit.
The delivery claims (`models.messaging.claim_batch`, `renew_claims`, `begin_attempt`) lock outbox rows only, and
PostgreSQL's claim skips rows another transaction holds. PostgreSQL may still find a rare circle the order does not
name (a foreign-key check on the incident while a message is rendered, say): it aborts one side, which `run` and
`models.db.in_transaction` run again; a user never sees it.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from importlib import import_module
from typing import Any

import pendulum
from sqlmodel import Session, select

from models import lifecycle, locks
from models.bounds import MAX_CHANNEL, MAX_NAME, MAX_NOTE, MAX_REFERENCE, MAX_SHORT_TEXT, check_instant, check_text
from models.breach_reads import decision_of, latest_assessment
from models.commands import AnyCommand, Declare, OnIncident
from models.db import in_transaction
from models.errors import InvalidInput, Refused
from models.gate import may_read, not_found
from models.incident import Incident
from models.journal import ENGINE_ACTOR
from policy.clocks import ObligationKind
from policy.parties import Party
from policy.scope import Scope, handling_party
from policy.transitions import (
    ANY_BREACH,
    BREACH_STATE_LABELS,
    COMMAND_LABELS,
    INCIDENT_STATE_LABELS,
    PARTY_RULE_LABELS,
    ROLE_LABELS,
    TRANSITIONS,
    BreachState,
    Command,
    IncidentState,
    PartyRule,
    Transition,
)
from rendering.formats import of_place
from settings.parties import Parties, Person, load_parties

ENGINE = Person(email=ENGINE_ACTOR, name="le moteur", party=Party.ACADEMY, insee=None, roles=frozenset())

Handler = Callable[..., Any]
# Each command's handler, by module and function name: a module is imported when its first command runs, so that a
# declaration does not load the proof's cryptography, the breach assessment or the sign-in tables (issue 12: a
# `declare` in under one and a half seconds). tests/test_door_handlers.py resolves every one.
HANDLERS: dict[str, tuple[str, str]] = {
    "declare": ("models.lifecycle", "declare"),
    "propose_scope": ("models.lifecycle", "propose_scope"),
    "triage": ("models.lifecycle", "triage"),
    "acknowledge": ("models.lifecycle", "acknowledge"),
    "follow_up": ("models.lifecycle", "record_follow_up"),
    "close": ("models.lifecycle", "close"),
    "dismiss": ("models.lifecycle", "dismiss"),
    "set_personal_data": ("models.breach_lifecycle", "set_personal_data"),
    "rule_out_personal_data": ("models.breach_lifecycle", "set_personal_data"),
    "assess": ("models.breach_lifecycle", "record_assessment"),
    "decide": ("models.breach_lifecycle", "decide"),
    "redraft": ("models.breach_lifecycle", "prepare_drafts"),
    "file_cnil": ("models.breach_lifecycle", "record_cnil_filing"),
    "inform_subjects": ("models.breach_lifecycle", "record_subjects_informed"),
    "take_step": ("models.watchdog", "take_due_step"),
    "remind_acknowledgement": ("models.watchdog", "remind_acknowledgement"),
    "record_delivery": ("models.messaging", "record_delivery"),
    "record_failure": ("models.messaging", "record_delivery_failure"),
    "record_pass": ("models.watchdog", "record_pass"),
    "sign_checkpoint": ("models.checkpoints", "record_checkpoint"),
    "request_sign_in": ("models.access", "request_sign_in"),
    "attach": ("models.attachments", "attach"),
    "mail_steering_report": ("models.messaging", "mail_steering_report"),
}
# The rows a group of commands of one kind locks after their incidents, all at once, in the lock order above.
GROUP_LOCKS: dict[str, tuple[str, str]] = {
    "record_delivery": ("models.messaging", "lock_records"),
    "record_failure": ("models.messaging", "lock_records"),
}


def handler(command: str) -> Handler:
    """The function that applies `command`, its module imported on first use."""
    module, function = HANDLERS[command]
    found: Handler = getattr(import_module(module), function)
    return found


def run(command: AnyCommand, actor: Person, now: pendulum.DateTime, parties: Parties | None = None) -> Any:
    """`execute` in a transaction of its own, committed on return; retried whole after a deadlock."""
    return in_transaction(lambda session: execute(session, command, actor, now, parties))


def run_all(commands: Sequence[AnyCommand], actor: Person, now: pendulum.DateTime,
            parties: Parties | None = None) -> list[Any]:
    """Several commands in one transaction (the engine recording a group of deliveries, proposing scopes): every
    incident they touch is locked first, in the order of their ids, then the rows GROUP_LOCKS names, so that two such
    groups never wait on each other in a circle."""
    def work(session: Session) -> list[Any]:
        locks.lock(session, Incident, {command.incident_id for command in commands
                                       if isinstance(command, OnIncident) and command.incident_id is not None})
        # Then what the commands lock after their incidents (a delivery or a failure: its obligation, then its
        # messages), for the whole group at once, before any entry takes the chain head.
        for lock_group in dict.fromkeys(GROUP_LOCKS.values()):
            group = [command for command in commands if GROUP_LOCKS.get(command.name) == lock_group]
            if group:
                module, function = lock_group
                getattr(import_module(module), function)(session, group)
        return [execute(session, command, actor, now, parties) for command in commands]

    return in_transaction(work)


def execute(session: Session, command: AnyCommand, actor: Person, now: pendulum.DateTime,
            parties: Parties | None = None) -> Any:
    """Check the actor's role and party, the record's state and the command's gates, then apply it."""
    parties = parties or load_parties()
    row = TRANSITIONS[command.name]
    _check_bounds(command, now)
    _check_role(row, actor)
    incident = None if isinstance(command, Declare) else _lock_incident(session, command)
    if incident is not None and not may_read(actor, incident.municipality_insee):
        raise not_found(incident.ref)  # as for a read: nothing of it
    _check_party(session, row, actor, incident, command, parties)
    if incident is not None:
        _check_state(session, row, incident)
    return handler(command.name)(session, command, incident, actor, parties, now)


# The free text and the instants a person gives with a command, bounded before anything is read or written.
TEXT_BOUNDS = {"reason": ("--reason", MAX_SHORT_TEXT, True), "note": ("note", MAX_NOTE, True),
               "filename": ("fichier", MAX_NAME, False), "rationale": ("--rationale", MAX_SHORT_TEXT, True),
               "delay_reasons": ("--delay-reasons", MAX_SHORT_TEXT, True),
               "reference": ("--reference", MAX_REFERENCE, False), "channel": ("--channel", MAX_CHANNEL, False)}
INSTANT_FIELDS = {"aware_at": "--aware-at", "filed_at": "--filed-at", "informed_at": "--informed-at",
                  "decided_at": "--decided-at"}


def _check_bounds(command: AnyCommand, now: pendulum.DateTime) -> None:
    errors = []
    for name, (field, max_len, multiline) in TEXT_BOUNDS.items():
        value = getattr(command, name, None)
        if isinstance(value, str):
            errors += check_text(value, field, max_len, multiline)
    for name, field in INSTANT_FIELDS.items():
        value = getattr(command, name, None)
        if isinstance(value, datetime):
            errors += check_instant(value, field, now)
    if errors:
        raise InvalidInput(errors)


def is_engine(actor: Person) -> bool:
    return actor is ENGINE


def _refuse(row: Transition, why: str) -> Refused:
    return Refused(f"Refusé ({row.rule}, {COMMAND_LABELS[row.command]}) : {why}.")


def require_role(command: Command, actor: Person) -> None:
    """The door's role check alone, for a screen that offers a command (a form) before anything is filled in."""
    _check_role(TRANSITIONS[command], actor)


def _check_role(row: Transition, actor: Person) -> None:
    if not row.roles:
        if not is_engine(actor):
            raise _refuse(row, "seul le moteur le fait, jamais une personne")
        return
    if is_engine(actor):
        raise _refuse(row, "une personne doit agir, pas le moteur")
    if not actor.roles & row.roles:
        allowed = ", ".join(ROLE_LABELS[role] for role in sorted(row.roles))
        raise _refuse(row, f"{actor.email} n'a pas le rôle requis ({allowed})")


def _lock_incident(session: Session, command: OnIncident) -> Incident | None:
    if command.incident_id is not None:
        incident = locks.lock(session, Incident, [command.incident_id]).get(command.incident_id)
    elif command.ref is not None:
        incident = session.exec(select(Incident).where(Incident.ref == command.ref).with_for_update()).one_or_none()
    else:
        return None  # an outbox record without incident (a periodic report)
    if incident is None:
        raise not_found(str(command.ref or command.incident_id))
    return incident


def required_party(session: Session, rule: PartyRule, incident: Incident | None, command: AnyCommand,
                   parties: Parties) -> tuple[Party, str | None] | None:
    """The party (and commune) an actor must belong to under `rule`; None when either party may act."""
    if isinstance(command, Declare):
        declaration = command.declaration
        return Party(declaration.declared_by), declaration.municipality
    assert incident is not None
    insee = incident.municipality_insee
    if rule is PartyRule.ACADEMY:
        return Party.ACADEMY, None
    if rule is PartyRule.ALERTED:
        return Party(incident.declared_by).other, insee
    if rule is PartyRule.HANDLER:
        follow_up = lifecycle.current_follow_up(session, incident)
        handler = Party(follow_up.owner) if follow_up else handling_party(Scope(incident.scope or Scope.SHARED))
        return handler, insee
    if rule is PartyRule.CNIL_OWNER:
        from models.breach_lifecycle import obligation_of  # a breach command's: see HANDLERS

        cnil = obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
        return (Party(cnil.owner) if cnil else parties.breach.cnil_owner_for(incident.categories)), insee
    return None


def _check_party(session: Session, row: Transition, actor: Person, incident: Incident | None, command: AnyCommand,
                 parties: Parties) -> None:
    if row.party in (PartyRule.ENGINE, PartyRule.SELF):
        return
    if row.party is PartyRule.ACADEMY_OR_OWN_COMMUNE:
        assert incident is not None
        if actor.party is Party.ACADEMY or actor.belongs_to(Party.MUNICIPALITY, incident.municipality_insee):
            return
        raise _refuse(row, f"réservé à {PARTY_RULE_LABELS[row.party]}")
    party, insee = required_party(session, row.party, incident, command, parties) or (actor.party, actor.insee)
    if not actor.belongs_to(party, insee):
        def named(party: Party, insee: str | None) -> str:
            commune = parties.municipality(insee) if insee else None
            return "l'académie" if party is Party.ACADEMY else \
                f"la commune {of_place(commune.name)} ({insee})" if commune else f"la commune {insee}"

        raise _refuse(row, f"réservé à {PARTY_RULE_LABELS[row.party]} ({named(party, insee)}) ; {actor.email} "
                           f"agit pour {named(actor.party, actor.insee)}")


def breach_state(session: Session, incident: Incident) -> BreachState:
    if decision_of(session, incident) is not None:
        return BreachState.DECIDED
    if latest_assessment(session, incident) is not None:
        return BreachState.ASSESSED
    return BreachState.NONE


def _check_state(session: Session, row: Transition, incident: Incident) -> None:
    state = IncidentState(incident.status)
    if state not in row.from_states:
        hint = " ; la prochaine passe du moteur (« incidents watch ») le prendra en charge" \
            if state is IncidentState.QUEUED else ""
        raise _refuse(row, f"l'incident {incident.ref} est {INCIDENT_STATE_LABELS[state]}{hint}")
    if row.breach_from == ANY_BREACH:
        return  # nothing to read: the engine's records of deliveries, for one, run in every breach state
    breach = breach_state(session, incident)
    if breach not in row.breach_from:
        raise _refuse(row, f"état de la violation de données de {incident.ref} : {BREACH_STATE_LABELS[breach]}")
