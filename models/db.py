"""Engine and sessions for the configured database. The embedded SQLite store migrates itself on first use; a shared
store (PostgreSQL) is migrated by `incidents db upgrade` alone, and every process refuses an older schema."""

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, event, inspect, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from models.driver import SCHEMA_HEAD
from models.errors import cause
from models.types import canonical_json
from settings.env import database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any 64-bit number will do, as long as it is ours alone: "ENT-INC" in ASCII.
MIGRATION_LOCK = 0x454E542D494E43

_engines: dict[str, Engine] = {}


class StoreUnavailable(Exception):
    """The configured database cannot be opened or migrated (the message says why, in French)."""


def get_engine(url: str | None = None) -> Engine:
    """One engine per database URL per process. An embedded SQLite store is migrated to the latest schema before
    first use; any other must already be there (`incidents db upgrade`), or StoreUnavailable says so in French."""
    url = url or database_url()
    if url not in _engines:
        try:
            engine = configured_engine(url)
            if engine.dialect.name == "sqlite":
                if schema_version(engine) != SCHEMA_HEAD:
                    migrate(engine)
            else:
                _require_current_schema(engine)
        except (ArgumentError, NoSuchModuleError, OperationalError) as error:
            raise StoreUnavailable(f"Base de données inaccessible ({shown_url(url)}, réglée par "
                                   f"INCIDENTS_DATABASE_URL) : {cause(error)}.") from error
        _engines[url] = engine
    return _engines[url]


def dispose_engines() -> None:
    """Close every pooled connection of this process's engines (a process about to exit, which then leaves nothing
    to its interpreter's teardown: the last SQLite connection closed checkpoints the write-ahead log)."""
    for engine in _engines.values():
        engine.dispose()


def configured_engine(url: str) -> Engine:
    """An engine with our transaction settings, before any look at its schema."""
    # JSON is stored in the timeline's canonical form (sorted keys, no spaces): `verify` then hashes a payload as
    # it reads it.
    engine = create_engine(url, json_serializer=canonical_json)
    if engine.dialect.name == "sqlite":
        _serialize_sqlite_writers(engine)
    else:
        _read_only_transactions(engine)
    return engine


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True) if "://" in url else url


def schema_version(engine: Engine) -> str | None:
    """The store's schema revision, or None for a store never migrated."""
    with engine.execution_options(read_only=True).connect() as connection:
        return _version(connection)


def _version(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    return str(version) if version is not None else None


def _require_current_schema(engine: Engine) -> None:
    version = schema_version(engine)
    if version == SCHEMA_HEAD:
        return
    found = f"en version {version}" if version else "vide (jamais migré)"
    raise StoreUnavailable(f"Le schéma du registre ({shown_url(str(engine.url))}) est {found} ; cette version du "
                           f"moteur attend la version {SCHEMA_HEAD}. Lancez « incidents db upgrade » une fois, avant "
                           "les autres commandes et les workers : rien n'a été lu ni écrit.")


def migrate(engine: Engine) -> str | None:
    """Apply the migrations not yet applied, one process at a time (PostgreSQL: an advisory lock held for the
    transaction; SQLite: the write lock its BEGIN IMMEDIATE takes); returns the revision found before."""
    from alembic import command  # only a migration pays for importing Alembic
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before = _version(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back (nothing written) when it raises."""
    with Session(get_engine(url), expire_on_commit=False) as session, session.begin():
        yield session


class ReadOnly(Exception):
    """A write attempted in a read: a programming error, never a user's."""


def _no_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnly("a read session never writes: use session_scope and the door")


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Session]:
    """A read: one consistent snapshot that never takes the write lock (SQLite in WAL mode: a deferred transaction;
    PostgreSQL: a read-only one), so that a long export or report holds no declaration back. It writes nothing."""
    with Session(get_engine(url).execution_options(read_only=True), expire_on_commit=False) as session:
        event.listen(session, "before_flush", _no_writes)
        with session.begin():
            yield session


T = TypeVar("T")

# PostgreSQL's serialization failure and detected deadlock: the transaction was rolled back whole, and running it
# again is the documented answer (PostgreSQL manual, §13.6).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
TRANSACTION_ATTEMPTS = 6


SQLITE_BUSY = 5  # sqlite3.SQLITE_BUSY: the write lock stayed taken longer than the busy timeout


def is_retryable(error: DBAPIError) -> bool:
    """Rolled back whole, and worth running again: a PostgreSQL deadlock or serialization failure; SQLite's write
    lock not obtained in time (its busy handler polls, so a writer can lose every turn to busier ones)."""
    return (getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
            or getattr(error.orig, "sqlite_errorcode", None) == SQLITE_BUSY)


def in_transaction(work: Callable[[Session], T], url: str | None = None) -> T:
    """Run `work` in one transaction, again from the start if the database rolled it back for a deadlock or a
    serialization failure; any other error, or the last such one, goes to the caller."""
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            with session_scope(url) as session:
                return work(session)
        except DBAPIError as error:
            if not is_retryable(error) or attempt == TRANSACTION_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.005, 0.02) * 2 ** attempt)  # apart, so that the two do not meet again
    raise AssertionError("unreachable")


def _serialize_sqlite_writers(engine: Engine) -> None:
    # SQLite upgrades a read lock to a write lock lazily and fails at once if another writer got there
    # first; taking the write lock at BEGIN makes concurrent declarations wait instead of failing.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read stays deferred: in WAL mode it reads its snapshot while writers go on.
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get("read_only")
                                   else "BEGIN IMMEDIATE")


def _read_only_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("read_only"):
            # One snapshot for the whole read (READ COMMITTED would give each statement its own: `verify` would see
            # entries appended between its reads as written beside the door). A read-only transaction at this level
            # never fails to serialize.
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def copy_as_simulation(target: Path) -> None:
    """Copy the configured SQLite store to `target` (SQLite's online backup) and mark the copy as a drill copy (a
    simulation that never signs checkpoints)."""
    import sqlite3

    from models.store_mode import mark_as_drill_copy

    engine = get_engine()
    if engine.dialect.name != "sqlite":
        raise StoreUnavailable("Une simulation se fait sur une copie du registre SQLite embarqué ; ce registre est "
                               "sur PostgreSQL.")
    source = sqlite3.connect(str(engine.url.database))
    try:
        with sqlite3.connect(str(target)) as copy:
            source.backup(copy)
    finally:
        source.close()
    with session_scope(f"sqlite:///{target}") as session:
        mark_as_drill_copy(session)


def simulation_name() -> str:
    """A name for the store, for a simulation's own folders: its file name, or its database name."""
    url = get_engine().url
    return Path(str(url.database or "simulation")).stem or "simulation"
