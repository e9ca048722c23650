"""Column types shared by the tables."""

import json
from datetime import UTC, datetime
from typing import Any

import pendulum
from sqlalchemy import DateTime, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware instants only, stored in UTC, read back as aware pendulum instants (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        offset = value.utcoffset() if value.tzinfo is not None else None
        if offset is None:
            raise ValueError("naive datetime refused: the store keeps aware instants only")
        # The wall time less its offset (the offset of the fold it is in): UTC, without a timezone conversion.
        naive = datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                         value.microsecond) - offset
        return naive if dialect.name == "sqlite" else naive.replace(tzinfo=pendulum.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> pendulum.DateTime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # SQLite's value is UTC already: built directly, a tenth of the cost of converting it (every instant of
            # every row read goes through here).
            return pendulum.DateTime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                                     value.microsecond, tzinfo=pendulum.UTC)
        return pendulum.instance(value).in_timezone(pendulum.UTC)


class PlainUTCDateTime(TypeDecorator[datetime]):
    """Read-only twin of UTCDateTime for reads over many rows: a plain aware `datetime` in UTC, no pendulum object."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plain_instant(column: Any) -> Any:
    """A UTCDateTime column, selected as a plain aware datetime (PlainUTCDateTime), under its own name."""
    return type_coerce(column, PlainUTCDateTime).label(column.name)


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """JSON in the timeline's canonical form (sorted keys, no spaces, UTF-8 as is): the store writes its JSON so."""
    return _CANONICAL_JSON.encode(value)
