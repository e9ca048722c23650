"""What an incident's and an obligation's stored columns mean: the scope in force, an obligation's status and lateness
as of `now`. Written once for the ORM's tables (models.incident, models.obligation) and the driver's plain rows
(models.plain_reads), which both take these classes as a base. Imports no store."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import pendulum

from policy.clocks import ObligationStatus, status_at
from policy.transitions import IncidentState


class ScopeStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"


class IncidentFacts:
    """Read from an incident's columns: whether it is open, and its scope (the confirmed one, else the proposed)."""

    __slots__ = ()  # a base of the ORM's table and of a frozen dataclass: it adds no attribute of its own
    if TYPE_CHECKING:  # the columns read: each subclass (a table, a row) defines them; named for the type checker
        status: str
        proposed_scope: str | None
        confirmed_scope: str | None

    @property
    def is_open(self) -> bool:
        return self.status in (IncidentState.QUEUED, IncidentState.OPEN)

    @property
    def scope(self) -> str | None:
        return self.confirmed_scope or self.proposed_scope

    @property
    def scope_status(self) -> ScopeStatus | None:
        if self.confirmed_scope:
            return ScopeStatus.CONFIRMED
        return ScopeStatus.PROPOSED if self.proposed_scope else None


class ObligationClock:
    """Read from an obligation's columns: stored deadline, lateness frozen when met, overdue derived from `now`."""

    __slots__ = ()
    if TYPE_CHECKING:
        due_at: datetime
        met_at: datetime | None
        waived_at: datetime | None
        late_by_seconds: int | None

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
