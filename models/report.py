"""Follow-ups and final reports a handling party sends the other (Art. 4.2, "des suites leur ayant été données")."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class ReportKind(StrEnum):
    FOLLOW_UP = "follow_up"
    FINAL = "final"


class IncidentReport(SQLModel, table=True):
    __tablename__ = "incident_report"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = Field(max_length=16)
    party: str = Field(max_length=16)
    author: str = Field(max_length=320)
    reported_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
