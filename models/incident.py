"""An incident as declared, and its scope of competence."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.facts import IncidentFacts, ScopeStatus
from models.types import UTCDateTime
from policy.transitions import IncidentState

IncidentStatus = IncidentState  # the states and their labels live in the transition table

__all__ = ["Incident", "IncidentStatus", "ScopeStatus"]


class Incident(IncidentFacts, SQLModel, table=True):
    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=32)
    status: str = Field(default=IncidentStatus.QUEUED, index=True, max_length=16)
    title: str = Field(max_length=300)
    description: str
    declared_by: str = Field(max_length=16)
    municipality_insee: str = Field(index=True, max_length=5)
    reporter_name: str = Field(max_length=200)
    reporter_email: str = Field(max_length=320)
    aware_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    occurred_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    declared_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    personal_data: str = Field(max_length=8)
    schools: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data_subjects: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    records: int | None = None
    proposed_scope: str | None = Field(default=None, max_length=16)
    confirmed_scope: str | None = Field(default=None, max_length=16)
    scope_reason: str | None = None
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    dismissed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    dismissal_reason: str | None = None
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    acknowledged_by: str | None = Field(default=None, max_length=320)
    # When the alerted party is reminded to acknowledge; NULL once acknowledged or reminded (indexed for the pass).
    acknowledgement_reminder_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True, index=True))

