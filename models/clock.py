"""The two instants, never confused. `--at` is the replay instant the rules run as of (tests and drills); the wall
clock stamps what the system did. An event's own time (a filing, an information) has its own option."""

import re
from datetime import UTC, datetime

import pendulum

from models.bounds import EARLIEST_INSTANT
from models.errors import FieldError, InvalidInput

OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
LATEST_INSTANT = datetime(2100, 1, 1, tzinfo=UTC)  # no legal clock of ours reaches that far

ISO_HINT = "doit être une date ISO 8601 avec décalage horaire, par ex. 2026-03-28T10:00:00+01:00"


def parse_instant(value: str, field: str) -> pendulum.DateTime:
    """An aware ISO 8601 instant, in UTC; a French error naming the field otherwise."""
    try:
        parsed = pendulum.parse(value, exact=True)
    except (ValueError, OverflowError, pendulum.parsing.exceptions.ParserError):
        parsed = None
    # pendulum reads a time without offset as UTC: a Paris time typed without one would shift a legal clock.
    if not isinstance(parsed, pendulum.DateTime) or "T" not in value or not OFFSET.search(value.strip()):
        raise InvalidInput([FieldError(field, ISO_HINT)])
    if not EARLIEST_INSTANT <= parsed < LATEST_INSTANT:
        raise InvalidInput([FieldError(field, "date invraisemblable : entre le 1er janvier 2000 et le 1er janvier "
                                              "2100 seulement")])
    return parsed.in_timezone("UTC")


def act_as_of(at: str | None, writes: bool = True) -> pendulum.DateTime:
    """The replay instant: now by default. A command that writes replays another instant on a simulation store only,
    so that no real mail and no real timeline entry is ever dated ahead, nor backdated (an event's own time has its
    own option); a read may look at the store as of any instant."""
    wall = pendulum.now("UTC")
    if at is None:
        return wall
    instant = parse_instant(at, "--at")
    if writes and not _simulation():
        raise InvalidInput([FieldError("--at", "rejouer à un autre instant n'est admis que sur un registre de "
                                               "simulation (voir « incidents simulate ») : ce registre est réel ; "
                                               "pour dater un événement passé, utilisez son option (--filed-at, "
                                               "--informed-at, --decided-at, --aware-at)")])
    return instant


def event_time(value: str | None, field: str, now: pendulum.DateTime) -> pendulum.DateTime:
    """When something happened in the world (default: now); never after now."""
    if value is None:
        return now
    instant = parse_instant(value, field)
    if instant > now:
        raise InvalidInput([FieldError(field, "la date est dans le futur")])
    return instant


def _simulation() -> bool:
    from models.db import session_scope
    from models.store_mode import is_simulation

    with session_scope() as session:
        return is_simulation(session)
