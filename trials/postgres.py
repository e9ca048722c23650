"""PostgreSQL for the trials: a throwaway server started from its binaries (as tests/test_postgresql_store.py does),
and a fresh database per trial on a given server."""

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import make_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server from the binaries on PATH (initdb, pg_ctl), run as nobody when we are root; yields the
    URL of its `postgres` database, stops and removes it at exit."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        raise RuntimeError("the PostgreSQL server binaries (initdb, pg_ctl) must be on PATH, or pass --postgres URL")
    folder = Path(tempfile.mkdtemp(prefix="trials-pg-"))
    # initdb refuses to run as root: run the server as an unprivileged user then.
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(folder, "nobody")
    data, port = folder / "data", free_port()
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True)
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "start", "-o",
                        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _libpq(url: str) -> str:
    """An SQLAlchemy URL (postgresql+psycopg://…) as psycopg's own connection URI."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new database on the server of `server_url` (whose user may create databases), migrated; yields its
    SQLAlchemy URL and drops it at exit."""
    from models.db import configured_engine, migrate

    name = f"incidents_trial_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = configured_engine(url)
    migrate(engine)  # as `incidents db upgrade` does, before any command or worker
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
