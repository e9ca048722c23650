"""The store read through its database driver alone (sqlite3, psycopg), without SQLAlchemy: a short read command
(`list`, `show`) would otherwise spend most of its second importing the ORM (issue 12). The reads themselves are in
models.plain_reads; an ORM session lends them its own connection (`plain_store_of`), so that the portal and the
commands read alike.

A store that is not plainly at the latest schema (missing, older, unreachable, or named by a URL this module does not
open itself) is handed to models.db, which migrates the embedded one, or says in French why it cannot be read."""

import json
import sqlite3
from collections.abc import Generator, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from settings.env import database_url

if TYPE_CHECKING:
    from sqlmodel import Session

# The latest migration's revision, read without importing Alembic (a second on every command);
# tests/test_schema_and_read_locks.py keeps it equal to Alembic's head.
SCHEMA_HEAD = "0013"

_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
_PSYCOPG_PREFIX = "postgresql+psycopg://"


class DriverError(Exception):
    """A database driver's error in a plain read (sqlite3's, psycopg's), kept as `orig`, as SQLAlchemy's wrapper
    keeps it (models.errors.cause reads it there): whoever shows it needs no driver imported to know it."""

    def __init__(self, orig: Exception) -> None:
        super().__init__(type(orig).__name__)
        self.orig = orig


def _is_driver_error(error: Exception) -> bool:
    return isinstance(error, sqlite3.Error) or type(error).__module__.split(".")[0] == "psycopg"


class PlainStore:
    """One read on the store through its driver's connection, with that dialect's ways of passing values."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """The rows of `sql`, written with `?` placeholders (psycopg's are `%s`)."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql if self.dialect == "sqlite" else sql.replace("?", "%s"), params)
            return list(cursor.fetchall())
        except Exception as error:
            if _is_driver_error(error):
                raise DriverError(error) from error
            raise
        finally:
            cursor.close()

    @overload
    @staticmethod
    def instant(value: None) -> None: ...

    @overload
    @staticmethod
    def instant(value: str | datetime) -> datetime: ...

    @staticmethod
    def instant(value: str | datetime | None) -> datetime | None:
        """A stored instant (models.types.UTCDateTime) as an aware datetime in UTC: SQLite keeps the UTC wall time as
        text, PostgreSQL gives an aware datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def json(self, value: Any) -> Any:
        """A stored JSON value: SQLite gives its text, psycopg the decoded value."""
        return json.loads(value) if self.dialect == "sqlite" and isinstance(value, str) else value

    def bound(self, instant: datetime) -> Any:
        """An instant as a parameter compared with a stored one: on SQLite the same text UTCDateTime writes (the UTC
        wall time, to the microsecond), so that text comparison is time order."""
        utc = instant.astimezone(UTC)
        if self.dialect == "sqlite":
            return utc.replace(tzinfo=None).isoformat(" ", "microseconds")
        return utc


@contextmanager
def plain_read(url: str | None = None) -> Iterator[PlainStore]:
    """A read of the configured store: one consistent snapshot that takes no write lock (SQLite in WAL mode: a
    deferred transaction; PostgreSQL: a read-only one), like models.db.read_scope. It writes nothing."""
    url = url or database_url()
    opened = _opened(url)
    if opened is None:
        from models.db import get_engine  # migrates the embedded store, or explains what is wrong (StoreUnavailable)

        engine = get_engine(url)
        opened = _opened(url)
        if opened is None:  # a URL this module does not open itself: the engine's driver connection, read the same
            pooled = engine.raw_connection()
            try:
                yield from _in_snapshot(PlainStore(pooled.driver_connection, engine.dialect.name))
            finally:
                pooled.close()
            return
    try:
        yield from _in_snapshot(opened)
    finally:
        opened.connection.close()


def plain_store_of(session: "Session") -> PlainStore:
    """The plain reads inside an ORM session's transaction, on its own connection: they see what it has written."""
    session.flush()  # as the session's own queries would (autoflush)
    connection = session.connection()
    return PlainStore(connection.connection.driver_connection, connection.dialect.name)


def _in_snapshot(store: PlainStore) -> Generator[PlainStore, None, None]:
    # SQLite: deferred, so that in WAL mode it reads its snapshot while writers go on; PostgreSQL: read-only.
    store.connection.execute("BEGIN" if store.dialect == "sqlite" else "SET TRANSACTION READ ONLY")
    try:
        yield store
    finally:
        store.connection.rollback()


def _opened(url: str) -> PlainStore | None:
    """A connection of our own to a store found at the latest schema, or None (anything else is models.db's)."""
    store = _connected(url)
    if store is None:
        return None
    try:
        version = store.rows("SELECT version_num FROM alembic_version")
    except Exception:  # noqa: BLE001 - no such table, not a database, a lost server: models.db says which
        version = []
    if version != [(SCHEMA_HEAD,)]:
        with suppress(Exception):
            store.connection.close()
        return None
    store.connection.rollback()  # the snapshot starts afresh, at BEGIN
    return store


def _connected(url: str) -> PlainStore | None:
    # Only the plain forms of the two URLs the project documents; `?` options, escapes and other drivers are read
    # through SQLAlchemy's engine, which knows them all.
    if url.startswith(_SQLITE_PREFIXES) and not any(char in url for char in "?%"):
        path = url.split(":///", 1)[1]
        if not path or path == ":memory:" or not Path(path).is_file():
            return None  # a new store: models.db creates and migrates it
        try:
            # The same waits as the engine's connections (busy_timeout 30 s); transactions begun by hand.
            return PlainStore(sqlite3.connect(path, timeout=30, isolation_level=None), "sqlite")
        except sqlite3.Error:
            return None
    if url.startswith(_PSYCOPG_PREFIX):
        import psycopg  # only a PostgreSQL store pays for it

        try:
            return PlainStore(psycopg.connect("postgresql://" + url.removeprefix(_PSYCOPG_PREFIX)), "postgresql")
        except psycopg.Error:
            return None
    return None
