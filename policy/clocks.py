"""Legal clocks (convention Art. 4.1 and 4.2): deadlines in elapsed hours, lateness frozen at fulfilment."""

from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import pendulum
from pendulum import DateTime

from policy.parties import Party

PARIS = pendulum.timezone("Europe/Paris")
PARIS_ZONE = ZoneInfo("Europe/Paris")  # the same zone for the stdlib: a microsecond per conversion over many rows


class ObligationKind(StrEnum):
    CROSS_PARTY_ALERT = "cross_party_alert"
    FOLLOW_UP = "follow_up"
    CNIL_NOTIFICATION = "cnil_notification"
    SUBJECTS_COMMUNICATION = "subjects_communication"


class ObligationStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    LATE = "late"
    OVERDUE = "overdue"
    NOT_REQUIRED = "not_required"


# One wording everywhere: "late" is met after its deadline, "overdue" is still unmet past it.
OBLIGATION_STATUS_LABELS: dict[ObligationStatus, str] = {
    ObligationStatus.OPEN: "en cours",
    ObligationStatus.MET: "remplie dans le délai",
    ObligationStatus.LATE: "remplie en retard",
    ObligationStatus.OVERDUE: "échéance dépassée",
    ObligationStatus.NOT_REQUIRED: "non requise",
}


@dataclass(frozen=True)
class ClockRule:
    kind: ObligationKind
    hours: int
    article: str
    label: str


# RG-CLOCK-01: the party that learnt of an incident alerts the other within 48 hours of its awareness.
# Art. 4.1 binds the municipality ("au plus tard dans un délai maximal de 48h"); Art. 4.2 asks the académie
# to alert "dans les plus brefs délais", which we hold to the same 48-hour ceiling.
CROSS_PARTY_ALERT = ClockRule(
    kind=ObligationKind.CROSS_PARTY_ALERT,
    hours=48,
    article="Convention, Art. 4.1 et 4.2",
    label="alerte de l'autre partie",
)

# RG-CLOCK-02: while an incident is open, the party handling it tells the other "des suites leur ayant été
# données" (Art. 4.2); we hold it to a follow-up every 7 days (configurable), anchored on the previous one.
FOLLOW_UP = ClockRule(
    kind=ObligationKind.FOLLOW_UP,
    hours=7 * 24,
    article="Convention, Art. 4.2 (suites données)",
    label="point de suivi à l'autre partie",
)

# RG-CLOCK-03: a personal-data breach is notified to the CNIL within 72 hours of the earliest awareness by either
# joint controller (GDPR Art. 33(1); convention Art. 4.2); "unknown" counts as a breach until decided.
CNIL_NOTIFICATION = ClockRule(
    kind=ObligationKind.CNIL_NOTIFICATION,
    hours=72,
    article="RGPD art. 33(1) ; convention, Art. 4.2",
    label="notification à la CNIL",
)

# RG-CLOCK-04: data subjects are told "sans retard injustifié" once a high risk is decided (GDPR Art. 34(1));
# held to a configurable ceiling (72 hours by default) so that the watchdog can remind it.
SUBJECTS_COMMUNICATION = ClockRule(
    kind=ObligationKind.SUBJECTS_COMMUNICATION,
    hours=72,
    article="RGPD art. 34(1) ; convention, Art. 4.2",
    label="information des personnes concernées",
)

CLOCK_RULES: dict[ObligationKind, ClockRule] = {
    rule.kind: rule for rule in (CROSS_PARTY_ALERT, FOLLOW_UP, CNIL_NOTIFICATION, SUBJECTS_COMMUNICATION)}


@dataclass(frozen=True)
class Deadline:
    kind: ObligationKind
    owner: Party
    anchor_at: DateTime
    due_at: DateTime


def cross_party_alert(declared_by: Party, aware_at: DateTime) -> Deadline:
    """The declaring party's alert deadline: 48 elapsed hours after it learnt of the incident."""
    return Deadline(
        kind=CROSS_PARTY_ALERT.kind,
        owner=declared_by,
        anchor_at=aware_at.in_timezone("UTC"),
        due_at=due_after(aware_at, CROSS_PARTY_ALERT.hours),
    )


def cnil_notification(owner: Party, earliest_awareness: DateTime) -> Deadline:
    """72 elapsed hours after the earliest awareness of the breach by either party."""
    return Deadline(kind=CNIL_NOTIFICATION.kind, owner=owner, anchor_at=earliest_awareness.in_timezone("UTC"),
                    due_at=due_after(earliest_awareness, CNIL_NOTIFICATION.hours))


def subjects_communication(owner: Party, decided_at: DateTime, hours: int) -> Deadline:
    return Deadline(kind=SUBJECTS_COMMUNICATION.kind, owner=owner, anchor_at=decided_at.in_timezone("UTC"),
                    due_at=due_after(decided_at, hours))


def follow_up(handler: Party, anchor: DateTime, days: int) -> Deadline:
    """The next follow-up the handling party owes the other: `days` elapsed days after the last one."""
    return Deadline(kind=FOLLOW_UP.kind, owner=handler, anchor_at=anchor.in_timezone("UTC"),
                    due_at=due_after(anchor, days * 24))


def due_after(anchor: DateTime, hours: int) -> DateTime:
    """Add elapsed hours (not wall-clock hours): across a DST change the Paris wall-clock hour shifts."""
    return anchor.in_timezone("UTC").add(hours=hours)


def lateness_seconds(due_at: DateTime, met_at: DateTime) -> int:
    """Seconds past the deadline at fulfilment; 0 when on time. Frozen by the caller once met."""
    return max(0, int((met_at - due_at).total_seconds()))


def status_at(due_at: DateTime, met_at: DateTime | None, now: DateTime, waived: bool = False) -> ObligationStatus:
    """Derive an obligation's status as of `now` (overdue is never stored, always computed)."""
    if waived:
        return ObligationStatus.NOT_REQUIRED
    if met_at is not None:
        return ObligationStatus.MET if met_at <= due_at else ObligationStatus.LATE
    return ObligationStatus.OVERDUE if now >= due_at else ObligationStatus.OPEN


def paris(instant: DateTime) -> DateTime:
    """An instant as shown to users: Europe/Paris."""
    return instant.in_timezone(PARIS)
