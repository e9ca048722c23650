"""The log of engine passes: when each ran (wall clock), as of which instant, and how it ended — what an operator
checks first (`incidents status`)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class PassOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"


PASS_OUTCOME_LABELS: dict[str, str] = {PassOutcome.OK: "terminée", PassOutcome.FAILED: "interrompue par une erreur"}


class EnginePass(SQLModel, table=True):
    __tablename__ = "engine_pass"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    finished_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    replay_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    outcome: str = Field(max_length=16)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=500)
