"""A legal obligation with its clock: stored anchor and deadline, lateness frozen when met."""

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from models.facts import ObligationClock
from models.types import UTCDateTime


class Obligation(ObligationClock, SQLModel, table=True):
    __tablename__ = "obligation"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = Field(max_length=32)
    owner: str = Field(max_length=16)
    anchor_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    met_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    late_by_seconds: int | None = None
    # The watchdog reads only obligations whose next action is due (indexed); NULL once met or waived.
    next_action_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True, index=True))
    steps_done: int = 0
    waived_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    waived_reason: str | None = None

