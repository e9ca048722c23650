"""Engine and sessions for the configured database; migrations are applied on first use."""

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from settings.env import database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}


class StoreUnavailable(Exception):
    """The configured database cannot be opened or migrated (the message says why, in French)."""


def get_engine(url: str | None = None) -> Engine:
    """One engine per database URL per process, migrated to the latest schema before first use."""
    url = url or database_url()
    if url not in _engines:
        try:
            engine = create_engine(url)
            if engine.dialect.name == "sqlite":
                _serialize_sqlite_writers(engine)
            migrate(engine)
        except (ArgumentError, NoSuchModuleError, OperationalError) as error:
            shown = make_url(url).render_as_string(hide_password=True) if "://" in url else url
            raise StoreUnavailable(f"Base de données inaccessible ({shown}, réglée par INCIDENTS_DATABASE_URL) : "
                                   f"{type(error).__name__}.") from error
        _engines[url] = engine
    return _engines[url]


def migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back (nothing written) when it raises."""
    with Session(get_engine(url), expire_on_commit=False) as session, session.begin():
        yield session


T = TypeVar("T")

# PostgreSQL's serialization failure and detected deadlock: the transaction was rolled back whole, and running it
# again is the documented answer (PostgreSQL manual, §13.6).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
TRANSACTION_ATTEMPTS = 6


def is_retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


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
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def copy_as_simulation(target: Path) -> None:
    """Copy the configured SQLite store to `target` (SQLite's online backup) and mark the copy as a simulation."""
    import sqlite3

    from models.store_mode import mark_as_simulation

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
        mark_as_simulation(session)


def simulation_name() -> str:
    """A name for the store, for a simulation's own folders: its file name, or its database name."""
    url = get_engine().url
    return Path(str(url.database or "simulation")).stem or "simulation"
