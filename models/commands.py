"""Commands: what a person (or the engine) asks the door to do. Plain values; the door checks and applies them."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pendulum

from models.declaration import Declaration
from models.outbox import MailFile
from policy.scope import Scope
from policy.transitions import Command

if TYPE_CHECKING:  # the breach documents' models load with the breach commands, not with every command
    from models.breach_input import AssessmentDocument, LetterDocument


@dataclass(frozen=True)
class Declare:
    name: ClassVar[Command] = Command.DECLARE
    declaration: Declaration


@dataclass(frozen=True)
class OnIncident:
    """A command about one incident, named by its reference (people) or its id (the engine)."""

    ref: str | None = field(default=None, kw_only=True)
    incident_id: int | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class ProposeScope(OnIncident):
    name: ClassVar[Command] = Command.PROPOSE_SCOPE


@dataclass(frozen=True)
class Triage(OnIncident):
    name: ClassVar[Command] = Command.TRIAGE
    scope: Scope
    reason: str | None = None


@dataclass(frozen=True)
class Acknowledge(OnIncident):
    name: ClassVar[Command] = Command.ACKNOWLEDGE


@dataclass(frozen=True)
class FollowUp(OnIncident):
    name: ClassVar[Command] = Command.FOLLOW_UP
    content: dict[str, Any]


@dataclass(frozen=True)
class Close(OnIncident):
    name: ClassVar[Command] = Command.CLOSE
    content: dict[str, Any]


@dataclass(frozen=True)
class Dismiss(OnIncident):
    name: ClassVar[Command] = Command.DISMISS
    reason: str


@dataclass(frozen=True)
class SetPersonalData(OnIncident):
    name: ClassVar[Command] = Command.SET_PERSONAL_DATA
    value: str
    aware_at: pendulum.DateTime
    reason: str | None = None


@dataclass(frozen=True)
class RuleOutPersonalData(SetPersonalData):
    name: ClassVar[Command] = Command.RULE_OUT_PERSONAL_DATA


@dataclass(frozen=True)
class Assess(OnIncident):
    name: ClassVar[Command] = Command.ASSESS
    document: "AssessmentDocument"


@dataclass(frozen=True)
class Decide(OnIncident):
    name: ClassVar[Command] = Command.DECIDE
    cnil: str
    subjects: str
    exemption: str | None = None
    rationale: str | None = None
    delay_reasons: str | None = None
    decided_at: pendulum.DateTime | None = None  # when the DPD decided, if before it was recorded; default: now
    letter: "LetterDocument | None" = None  # the letter to the people concerned, in plain words


@dataclass(frozen=True)
class Redraft(OnIncident):
    name: ClassVar[Command] = Command.REDRAFT
    complementary: bool = False
    mail: tuple[str, str, str] | None = None  # subject, text, html: rendered by the caller (notifications/)
    files: tuple[MailFile, ...] = ()  # the drafts, attached to the mail


@dataclass(frozen=True)
class FileCnil(OnIncident):
    name: ClassVar[Command] = Command.FILE_CNIL
    filed_at: pendulum.DateTime
    reference: str
    complementary: bool = False


@dataclass(frozen=True)
class InformSubjects(OnIncident):
    name: ClassVar[Command] = Command.INFORM_SUBJECTS
    informed_at: pendulum.DateTime
    channel: str


@dataclass(frozen=True)
class TakeStep(OnIncident):
    name: ClassVar[Command] = Command.TAKE_STEP
    obligation_id: int


@dataclass(frozen=True)
class RemindAcknowledgement(OnIncident):
    name: ClassVar[Command] = Command.REMIND_ACKNOWLEDGEMENT


@dataclass(frozen=True)
class RecordDelivery(OnIncident):
    name: ClassVar[Command] = Command.RECORD_DELIVERY
    message_id: int
    transport: str
    smtp_message_id: str
    claim_token: str | None = None


@dataclass(frozen=True)
class RecordFailure(OnIncident):
    name: ClassVar[Command] = Command.RECORD_FAILURE
    message_id: int
    error: str
    permanent: bool = False  # the relay refused this message for good: no retry, escalated at once
    claim_token: str | None = None


@dataclass(frozen=True)
class RecordPass(OnIncident):
    """About no incident: when a pass ran (wall clock), as of which instant, and how it ended."""

    name: ClassVar[Command] = Command.RECORD_PASS
    started_at: pendulum.DateTime
    finished_at: pendulum.DateTime
    replay_at: pendulum.DateTime
    summary: dict[str, int | bool]
    error: str | None = None


@dataclass(frozen=True)
class SignCheckpoint(OnIncident):
    """About no incident: sign a checkpoint of the timeline if entries were added since the last one."""

    name: ClassVar[Command] = Command.SIGN_CHECKPOINT


@dataclass(frozen=True)
class RequestSignIn(OnIncident):
    """About no incident: mail a one-time sign-in link to the person who asked for it (the portal's default)."""

    name: ClassVar[Command] = Command.REQUEST_SIGN_IN
    token: str  # only its hash is stored
    link: str


@dataclass(frozen=True)
class Attach(OnIncident):
    """A file added to an incident: stored under var/ by its SHA-256 before the door records it."""

    name: ClassVar[Command] = Command.ATTACH
    filename: str
    content_type: str
    size: int
    sha256: str
    note: str | None = None


@dataclass(frozen=True)
class MailSteeringReport(OnIncident):
    """About no incident: the month's steering report (YYYY-MM), already rendered, for the steering contacts."""

    name: ClassVar[Command] = Command.MAIL_STEERING_REPORT
    month: str
    subject: str
    text: str
    html: str


IncidentCommand = (ProposeScope | Triage | Acknowledge | FollowUp | Close | Dismiss | SetPersonalData
                   | RuleOutPersonalData | Assess
                   | Decide | Redraft | FileCnil | InformSubjects | TakeStep | RemindAcknowledgement
                   | RecordDelivery | RecordFailure | RecordPass | SignCheckpoint | RequestSignIn | Attach
                   | MailSteeringReport)
AnyCommand = Declare | IncidentCommand
