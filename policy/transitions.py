"""The transition table: for each command, the states it may act from, who may make it, and what it writes.

Pure data, each row citing the convention or the GDPR. `models.door.execute` applies it; nothing else decides who
may change what. Every enum has one French label beside it, which every output uses.
"""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    REFERENT = "referent"  # declares and follows up for a commune
    TRIAGER = "triager"  # académie security staff
    DPD = "dpd"  # either party's data-protection officer
    AUDITOR = "auditor"  # reads everything, changes nothing
    STEERING = "steering"  # receives reports
    ADMIN = "admin"  # configuration


ROLE_LABELS: dict[Role, str] = {
    Role.REFERENT: "référent ENT de la commune",
    Role.TRIAGER: "agent de sécurité de l'académie",
    Role.DPD: "délégué à la protection des données",
    Role.AUDITOR: "auditeur",
    Role.STEERING: "membre du comité de pilotage",
    Role.ADMIN: "administrateur",
}


class IncidentState(StrEnum):
    QUEUED = "queued"  # committed, intake not yet done
    OPEN = "open"  # intake done: scope proposed, alert handed to the outbox
    CLOSED = "closed"  # final report sent
    DISMISSED = "dismissed"  # not an ENT incident, or a duplicate: kept on the timeline and in statistics


INCIDENT_STATE_LABELS: dict[IncidentState, str] = {
    IncidentState.QUEUED: "en file",
    IncidentState.OPEN: "ouvert",
    IncidentState.CLOSED: "clos",
    IncidentState.DISMISSED: "classé sans suite",
}


class BreachState(StrEnum):
    NONE = "none"  # no assessment yet
    ASSESSED = "assessed"  # at least one ENISA assessment
    DECIDED = "decided"  # the DPD's decision is recorded


BREACH_STATE_LABELS: dict[BreachState, str] = {
    BreachState.NONE: "pas encore évaluée",
    BreachState.ASSESSED: "évaluée, décision du DPD en attente",
    BreachState.DECIDED: "déjà décidée par le DPD",
}


class ObligationState(StrEnum):
    OPEN = "open"
    MET = "met"
    WAIVED = "waived"


OBLIGATION_STATE_LABELS: dict[ObligationState, str] = {
    ObligationState.OPEN: "ouverte",
    ObligationState.MET: "remplie",
    ObligationState.WAIVED: "non requise",
}


class PartyRule(StrEnum):
    """Which party the actor must belong to, relative to the incident (a commune's people: their commune only)."""

    ENGINE = "engine"  # the engine itself, never a person
    ACADEMY = "academy"
    ACADEMY_OR_OWN_COMMUNE = "academy_or_own_commune"
    DECLARANT = "declarant"  # the party the declaration is filed for
    HANDLER = "handler"  # the party handling the incident (owner of the follow-up)
    ALERTED = "alerted"  # the party the cross-party alert went to
    CNIL_OWNER = "cnil_owner"  # the party that notifies the CNIL for this incident
    SELF = "self"  # about no incident: the person acts for themself (asks for a sign-in link)


PARTY_RULE_LABELS: dict[PartyRule, str] = {
    PartyRule.ENGINE: "le moteur seul",
    PartyRule.ACADEMY: "l'académie",
    PartyRule.ACADEMY_OR_OWN_COMMUNE: "l'académie ou la commune de l'incident",
    PartyRule.DECLARANT: "la partie au nom de laquelle la déclaration est faite",
    PartyRule.HANDLER: "la partie chargée de l'incident",
    PartyRule.ALERTED: "la partie alertée",
    PartyRule.CNIL_OWNER: "la partie chargée de la notification à la CNIL",
    PartyRule.SELF: "la personne elle-même",
}


class Command(StrEnum):
    DECLARE = "declare"
    PROPOSE_SCOPE = "propose_scope"
    TRIAGE = "triage"
    ACKNOWLEDGE = "acknowledge"
    FOLLOW_UP = "follow_up"
    CLOSE = "close"
    DISMISS = "dismiss"
    SET_PERSONAL_DATA = "set_personal_data"
    RULE_OUT_PERSONAL_DATA = "rule_out_personal_data"
    ASSESS = "assess"
    DECIDE = "decide"
    REDRAFT = "redraft"
    FILE_CNIL = "file_cnil"
    INFORM_SUBJECTS = "inform_subjects"
    TAKE_STEP = "take_step"
    REMIND_ACKNOWLEDGEMENT = "remind_acknowledgement"
    RECORD_DELIVERY = "record_delivery"
    RECORD_FAILURE = "record_failure"
    RECORD_PASS = "record_pass"
    SIGN_CHECKPOINT = "sign_checkpoint"
    REQUEST_SIGN_IN = "request_sign_in"
    ATTACH = "attach"
    MAIL_STEERING_REPORT = "mail_steering_report"


COMMAND_LABELS: dict[Command, str] = {
    Command.DECLARE: "déclarer un incident",
    Command.PROPOSE_SCOPE: "proposer la portée",
    Command.TRIAGE: "arrêter la portée",
    Command.ACKNOWLEDGE: "accuser réception de l'alerte",
    Command.FOLLOW_UP: "envoyer un point de suivi",
    Command.CLOSE: "clore l'incident",
    Command.DISMISS: "classer sans suite",
    Command.SET_PERSONAL_DATA: "indiquer que des données personnelles sont ou peuvent être concernées",
    Command.RULE_OUT_PERSONAL_DATA: "écarter toute donnée personnelle (lève les délais CNIL)",
    Command.ASSESS: "évaluer la gravité de la violation",
    Command.DECIDE: "décider de la notification à la CNIL et de l'information des personnes",
    Command.REDRAFT: "préparer les projets de notification",
    Command.FILE_CNIL: "enregistrer la notification déposée auprès de la CNIL",
    Command.INFORM_SUBJECTS: "enregistrer l'information des personnes concernées",
    Command.TAKE_STEP: "franchir une étape d'échéance",
    Command.REMIND_ACKNOWLEDGEMENT: "relancer l'accusé de réception",
    Command.RECORD_DELIVERY: "consigner la remise d'un message",
    Command.RECORD_FAILURE: "consigner l'échec de remise d'un message",
    Command.RECORD_PASS: "consigner une passe du moteur",
    Command.SIGN_CHECKPOINT: "signer un point de contrôle de la chronologie",
    Command.REQUEST_SIGN_IN: "demander un lien de connexion",
    Command.ATTACH: "joindre un fichier",
    Command.MAIL_STEERING_REPORT: "adresser le rapport mensuel au comité de pilotage",
}


class EntryKind(StrEnum):
    DECLARED = "declared"
    SCOPE_PROPOSED = "scope_proposed"
    SCOPE_CONFIRMED = "scope_confirmed"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    ACKNOWLEDGEMENT_REMINDER = "acknowledgement_reminder"
    FOLLOW_UP_RECORDED = "follow_up_recorded"
    CLOSED = "closed"
    DISMISSED = "dismissed"
    PERSONAL_DATA_CHANGED = "personal_data_changed"
    BREACH_ASSESSED = "breach_assessed"
    BREACH_DECIDED = "breach_decided"
    DRAFTS_PREPARED = "drafts_prepared"
    CNIL_FILED = "cnil_filed"
    SUBJECTS_INFORMED = "subjects_informed"
    OBLIGATION_OPENED = "obligation_opened"
    OBLIGATION_MET = "obligation_met"
    OBLIGATION_WAIVED = "obligation_waived"
    OBLIGATION_REASSIGNED = "obligation_reassigned"
    DEADLINE_REMINDER = "deadline_reminder"
    DEADLINE_ESCALATION = "deadline_escalation"
    OBLIGATION_OVERDUE = "obligation_overdue"
    STEPS_SKIPPED = "steps_skipped"
    MESSAGE_DELIVERED = "message_delivered"
    MESSAGE_FAILED = "message_failed"
    MESSAGE_CANCELLED = "message_cancelled"
    MESSAGE_REFUSED = "message_refused"
    ATTACHMENT_ADDED = "attachment_added"


ENTRY_LABELS: dict[EntryKind, str] = {
    EntryKind.DECLARED: "Déclaration enregistrée",
    EntryKind.SCOPE_PROPOSED: "Portée proposée par le moteur",
    EntryKind.SCOPE_CONFIRMED: "Portée arrêtée par l'académie",
    EntryKind.ALERT_ACKNOWLEDGED: "Accusé de réception de l'alerte",
    EntryKind.ACKNOWLEDGEMENT_REMINDER: "Relance de l'accusé de réception",
    EntryKind.FOLLOW_UP_RECORDED: "Point de suivi enregistré",
    EntryKind.CLOSED: "Incident clos",
    EntryKind.DISMISSED: "Classé sans suite",
    EntryKind.PERSONAL_DATA_CHANGED: "Données personnelles",
    EntryKind.BREACH_ASSESSED: "Évaluation de la violation",
    EntryKind.BREACH_DECIDED: "Décision du DPD",
    EntryKind.DRAFTS_PREPARED: "Projets de notification préparés",
    EntryKind.CNIL_FILED: "Notification à la CNIL déposée",
    EntryKind.SUBJECTS_INFORMED: "Personnes concernées informées",
    EntryKind.OBLIGATION_OPENED: "Obligation ouverte",
    EntryKind.OBLIGATION_MET: "Obligation remplie",
    EntryKind.OBLIGATION_WAIVED: "Obligation levée",
    EntryKind.OBLIGATION_REASSIGNED: "Obligation réattribuée",
    EntryKind.DEADLINE_REMINDER: "Rappel d'échéance",
    EntryKind.DEADLINE_ESCALATION: "Escalade",
    EntryKind.OBLIGATION_OVERDUE: "Échéance dépassée",
    EntryKind.STEPS_SKIPPED: "Étapes sautées (passe tardive)",
    EntryKind.MESSAGE_DELIVERED: "Message remis",
    EntryKind.MESSAGE_FAILED: "Échec de remise d'un message",
    EntryKind.MESSAGE_CANCELLED: "Message annulé",
    EntryKind.MESSAGE_REFUSED: "Message refusé définitivement par le relais",
    EntryKind.ATTACHMENT_ADDED: "Pièce jointe ajoutée",
}

LIVE = frozenset({IncidentState.QUEUED, IncidentState.OPEN})  # a breach clock runs from the declaration
ANY_STATE = frozenset(IncidentState)
OPEN = frozenset({IncidentState.OPEN})
ANY_BREACH = frozenset(BreachState)


@dataclass(frozen=True)
class Transition:
    rule: str
    command: Command
    article: str
    from_states: frozenset[IncidentState]  # empty: the command creates the incident
    roles: frozenset[Role]  # empty: the engine's own command
    party: PartyRule
    entry: EntryKind | None  # None: an operational record, not on any incident's timeline
    to_state: IncidentState | None = None  # None: the incident keeps its state
    breach_from: frozenset[BreachState] = ANY_BREACH
    gates: tuple[str, ...] = ()  # the command's own checks, named in French in the refusal


def _t(rule: str, command: Command, article: str, from_states: frozenset[IncidentState], roles: set[Role],
       party: PartyRule, entry: EntryKind | None, **extra: object) -> Transition:
    return Transition(rule, command, article, from_states, frozenset(roles), party, entry,
                      **extra)  # type: ignore[arg-type]


TRANSITIONS: dict[Command, Transition] = {row.command: row for row in (
    # RG-DOOR-01: the party that learnt of the incident declares it and starts its 48-hour alert clock.
    _t("RG-DOOR-01", Command.DECLARE, "Convention, Art. 4.1 et 4.2", frozenset(), {Role.REFERENT, Role.TRIAGER},
       PartyRule.DECLARANT, EntryKind.DECLARED, to_state=IncidentState.QUEUED,
       gates=("occurred_at au plus tard à la prise de connaissance", "commune et écoles connues")),
    # RG-DOOR-02: the engine proposes a scope of competence from the Art. 8 table.
    _t("RG-DOOR-02", Command.PROPOSE_SCOPE, "Convention, Art. 8", frozenset({IncidentState.QUEUED}), set(),
       PartyRule.ENGINE,
       EntryKind.SCOPE_PROPOSED, to_state=IncidentState.OPEN),
    # RG-DOOR-03: an académie triager confirms or overrides the scope; an override needs a reason.
    _t("RG-DOOR-03", Command.TRIAGE, "Convention, Art. 8, 3.2.1 et 3.2.2", OPEN, {Role.TRIAGER}, PartyRule.ACADEMY,
       EntryKind.SCOPE_CONFIRMED, gates=("motif requis pour écarter la portée proposée",)),
    # RG-DOOR-04: the alerted party acknowledges the alert it received.
    _t("RG-DOOR-04", Command.ACKNOWLEDGE, "Convention, Art. 4.1 et 4.2", OPEN, {Role.REFERENT, Role.TRIAGER, Role.DPD},
       PartyRule.ALERTED, EntryKind.ALERT_ACKNOWLEDGED, gates=("un seul accusé de réception",)),
    # RG-DOOR-05: the handling party tells the other "des suites leur ayant été données".
    _t("RG-DOOR-05", Command.FOLLOW_UP, "Convention, Art. 4.2", OPEN, {Role.REFERENT, Role.TRIAGER}, PartyRule.HANDLER,
       EntryKind.FOLLOW_UP_RECORDED),
    # RG-DOOR-06: closing sends the final report; refused while a legal clock other than the follow-up is open.
    _t("RG-DOOR-06", Command.CLOSE, "Convention, Art. 4.2", OPEN, {Role.REFERENT, Role.TRIAGER}, PartyRule.HANDLER,
       EntryKind.CLOSED, to_state=IncidentState.CLOSED, gates=("plus aucune obligation légale ouverte",)),
    # RG-DOOR-07: the académie dismisses what is not an ENT incident, or a duplicate; open clocks are waived.
    _t("RG-DOOR-07", Command.DISMISS, "Convention, Art. 3.2 et 8", LIVE, {Role.TRIAGER}, PartyRule.ACADEMY,
       EntryKind.DISMISSED,
       to_state=IncidentState.DISMISSED, gates=("motif requis", "aucun délai de violation de données en cours")),
    # RG-DOOR-08: personal data learnt of later (or possibly involved) opens the CNIL clock.
    _t("RG-DOOR-08", Command.SET_PERSONAL_DATA, "RGPD art. 33(1) ; convention, Art. 4.2", LIVE,
       {Role.REFERENT, Role.TRIAGER, Role.DPD}, PartyRule.ACADEMY_OR_OWN_COMMUNE, EntryKind.PERSONAL_DATA_CHANGED,
       breach_from=frozenset({BreachState.NONE, BreachState.ASSESSED}),
       gates=("prise de connaissance passée et postérieure à celle de l'incident",)),
    # RG-DOOR-18: "no personal data after all" waives the CNIL and data-subjects clocks: the notifying party's DPD
    # alone rules a breach out, with a reason (GDPR Art. 33(1): in doubt, notify).
    _t("RG-DOOR-18", Command.RULE_OUT_PERSONAL_DATA, "RGPD art. 33(1) et 33(5) ; convention, Art. 4.2", LIVE,
       {Role.DPD}, PartyRule.CNIL_OWNER, EntryKind.PERSONAL_DATA_CHANGED,
       breach_from=frozenset({BreachState.NONE, BreachState.ASSESSED}), gates=("motif requis",)),
    # RG-DOOR-09: a DPD assesses the breach (ENISA); several assessments may follow one another until the decision.
    _t("RG-DOOR-09", Command.ASSESS, "RGPD art. 33(3) ; méthode ENISA", LIVE, {Role.DPD},
       PartyRule.ACADEMY_OR_OWN_COMMUNE,
       EntryKind.BREACH_ASSESSED, breach_from=frozenset({BreachState.NONE, BreachState.ASSESSED}),
       gates=("données personnelles concernées ou inconnues",)),
    # RG-DOOR-10: the DPD of the party that notifies decides, once; a departure from the recommendation is reasoned.
    _t("RG-DOOR-10", Command.DECIDE, "RGPD art. 33 et 34 ; convention, Art. 4.2", LIVE, {Role.DPD},
       PartyRule.CNIL_OWNER,
       EntryKind.BREACH_DECIDED, breach_from=frozenset({BreachState.ASSESSED}),
       gates=("motivation requise pour un « non », une exemption ou un écart",)),
    # RG-DOOR-11: drafts of the CNIL notification and of the letter to the people concerned, for the DPD.
    _t("RG-DOOR-11", Command.REDRAFT, "RGPD art. 33(3), 33(4) et 34(2)", LIVE, {Role.DPD}, PartyRule.CNIL_OWNER,
       EntryKind.DRAFTS_PREPARED, breach_from=frozenset({BreachState.ASSESSED, BreachState.DECIDED})),
    # RG-DOOR-12: the filing with the CNIL, dated when it was made: never before the decision, never in the future.
    _t("RG-DOOR-12", Command.FILE_CNIL, "RGPD art. 33(1) et 33(4)", LIVE, {Role.DPD}, PartyRule.CNIL_OWNER,
       EntryKind.CNIL_FILED,
       breach_from=frozenset({BreachState.DECIDED}),
       gates=("décision de notifier", "dépôt postérieur à la décision", "initiale avant complémentaire")),
    # RG-DOOR-13: the people concerned informed, dated when it was done: never before the decision.
    _t("RG-DOOR-13", Command.INFORM_SUBJECTS, "RGPD art. 34", LIVE, {Role.DPD, Role.TRIAGER, Role.REFERENT},
       PartyRule.CNIL_OWNER, EntryKind.SUBJECTS_INFORMED, breach_from=frozenset({BreachState.DECIDED}),
       gates=("décision d'informer", "information postérieure à la décision")),
    # RG-DOOR-14: the engine takes the step due on a legal clock (reminder, escalation, overdue notice).
    _t("RG-DOOR-14", Command.TAKE_STEP, "Convention, Art. 4.1 et 4.2 ; RGPD art. 33 et 34", LIVE, set(),
       PartyRule.ENGINE,
       EntryKind.DEADLINE_REMINDER),
    # RG-DOOR-15: an alert still unacknowledged after the configured delay is recalled once to the alerted party.
    _t("RG-DOOR-15", Command.REMIND_ACKNOWLEDGEMENT, "Convention, Art. 4.1 et 4.2", OPEN, set(), PartyRule.ENGINE,
       EntryKind.ACKNOWLEDGEMENT_REMINDER),
    # RG-DOOR-16: the outbox records what left (a final report leaves after closure; a message in flight finishes).
    _t("RG-DOOR-16", Command.RECORD_DELIVERY, "Convention, Art. 4.1 et 4.2", ANY_STATE, set(), PartyRule.ENGINE,
       EntryKind.MESSAGE_DELIVERED),
    # RG-DOOR-17: a failed attempt is retried later, unless its incident's messages were cancelled meanwhile; a
    # refusal for good (SMTP 5xx) is not retried but escalated at once.
    _t("RG-DOOR-17", Command.RECORD_FAILURE, "Convention, Art. 4.1 et 4.2", ANY_STATE, set(), PartyRule.ENGINE,
       EntryKind.MESSAGE_FAILED),
    # RG-DOOR-19: the engine logs each pass it ran (when, as of which instant, how it ended), for `status`.
    _t("RG-DOOR-19", Command.RECORD_PASS, "Convention, Art. 4.1 et 4.2", ANY_STATE, set(), PartyRule.ENGINE, None),
    # RG-DOOR-22: the engine signs a checkpoint of the timeline (its tree's size and root) at each pass that added
    # entries, and on an académie person's request; nothing goes on the timeline (models/checkpoints.py).
    _t("RG-DOOR-22", Command.SIGN_CHECKPOINT, "RFC 9162 ; convention, Art. 4 (preuve)", ANY_STATE, set(),
       PartyRule.ENGINE, None),
    # RG-DOOR-20: anyone declared in the parties' file may ask for a one-time sign-in link, mailed to them alone.
    _t("RG-DOOR-20", Command.REQUEST_SIGN_IN, "Convention, Art. 8 (sécurité du dispositif) ; RGS", ANY_STATE, set(Role),
       PartyRule.SELF, None),
    # RG-DOOR-21: the people handling an incident add files to it while it is live; its SHA-256 goes on the timeline.
    _t("RG-DOOR-21", Command.ATTACH, "Convention, Art. 4.2 (informations complémentaires)", LIVE,
       {Role.REFERENT, Role.TRIAGER, Role.DPD}, PartyRule.ACADEMY_OR_OWN_COMMUNE, EntryKind.ATTACHMENT_ADDED),
    # RG-DOOR-23: the engine mails the month's steering report to the steering contacts, once per month and contact.
    _t("RG-DOOR-23", Command.MAIL_STEERING_REPORT, "Convention, Art. 4 (comité de pilotage)", ANY_STATE, set(),
       PartyRule.ENGINE, None),
)}
