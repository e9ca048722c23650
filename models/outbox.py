"""Every message leaves through the outbox: stored first, rendered, then delivered once."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, update
from sqlmodel import Field, Session, SQLModel, col, select

from models.types import UTCDateTime
from policy.messages import MESSAGE_STATUS_LABELS, TEMPLATE_LABELS, UNDELIVERED, MessageStatus

__all__ = ["MESSAGE_STATUS_LABELS", "TEMPLATE_LABELS", "UNDELIVERED", "MailFile", "MessageStatus", "OutboxAttachment",
           "OutboxMessage", "cancel_undelivered", "files_of"]


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)  # None: a periodic report
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    idempotency_key: str = Field(unique=True, max_length=400)
    template: str = Field(max_length=64)
    step: str = Field(max_length=32)
    fulfils: bool = False  # delivering it (to every recipient of its step) meets its obligation
    recipient_name: str = Field(max_length=200)
    recipient_email: str = Field(max_length=320)
    recipient_party: str = Field(max_length=16)
    subject: str | None = None
    body_text: str | None = None
    body_html: str | None = None
    status: str = Field(default=MessageStatus.PENDING, index=True, max_length=16)
    attachment_ics: str | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    escalated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # A delivery attempt's claim: its token, and until when (wall clock) it holds; renewed while its pass runs.
    claim_token: str | None = Field(default=None, max_length=32, index=True)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    queued_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))  # wall clock
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    transport: str | None = Field(default=None, max_length=16)
    message_id: str | None = Field(default=None, max_length=200)

    @property
    def rendered(self) -> bool:
        return self.subject is not None


@dataclass(frozen=True)
class MailFile:
    """A file a message carries: its name as the recipient sees it, its media type, its bytes."""

    filename: str
    media_type: str  # e.g. "application/vnd.oasis.opendocument.text", "text/csv"
    content: bytes


class OutboxAttachment(SQLModel, table=True):
    """A file stored with its message (rendered with it), so that a resend carries the very same bytes."""

    __tablename__ = "outbox_attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbox_message.id", index=True)
    position: int = 0
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


def files_of(session: Session, message_id: int) -> list[MailFile]:
    """The files a message carries, in the order they were stored."""
    rows = session.exec(select(OutboxAttachment).where(OutboxAttachment.message_id == message_id)
                        .order_by(col(OutboxAttachment.position), col(OutboxAttachment.id))).all()
    return [MailFile(row.filename, row.media_type, row.content) for row in rows]


def cancel_undelivered(session: Session, *conditions: Any) -> int:
    """Cancel the messages matching `conditions` that have not left (queued, or being sent); how many."""
    stale = [message_id for message_id in session.exec(select(OutboxMessage.id).where(
        col(OutboxMessage.status).in_(UNDELIVERED), *conditions).order_by(col(OutboxMessage.id))) if message_id]
    if stale:
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(stale))
                        .values(status=MessageStatus.CANCELLED, claimed_until=None))
    return len(stale)
