"""A legal obligation with its clock: stored anchor and deadline, lateness frozen when met."""

from datetime import datetime

import pendulum
from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime
from policy.clocks import ObligationStatus, status_at


class Obligation(SQLModel, table=True):
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

    @property
    def settled(self) -> bool:
        return self.met_at is not None or self.waived_at is not None

    def status(self, now: pendulum.DateTime) -> ObligationStatus:
        met_at = pendulum.instance(self.met_at) if self.met_at is not None else None
        return status_at(pendulum.instance(self.due_at), met_at, now, waived=self.waived_at is not None)

    def lateness(self, now: pendulum.DateTime) -> int | None:
        """Frozen lateness once met; the running lateness while overdue; None while on time."""
        if self.met_at is not None:
            return self.late_by_seconds
        if self.waived_at is not None:
            return None
        overdue = int((now - pendulum.instance(self.due_at)).total_seconds())
        return overdue if overdue >= 0 else None
