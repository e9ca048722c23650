"""What the trials share: a fresh simulation store in its own environment, declarations through the door (as
benchmarks/burst.py makes them), one engine pass in-process or as its own OS process, and what the store says was
sent, joined to what the relays received by Message-ID."""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pendulum
from sqlmodel import col, select

from flows.steps import engine_pass_bare
from models.commands import Declare
from models.db import session_scope
from models.declaration import parse_declaration
from models.door import execute
from models.incident import Incident
from models.obligation import Obligation
from models.outbox import OutboxMessage
from models.store_mode import mark_as_simulation
from notifications.transport import message_id_for
from policy.retry import backoff_seconds
from settings.parties import load_parties
from trials.postgres import fresh_database, postgres_server
from trials.relay import Arrival, Relay, wait_until

ROOT = Path(__file__).resolve().parents[1]

T0 = pendulum.datetime(2026, 11, 28, 9, 0, tz="UTC")  # 10:00 in Paris: when the trials' declarations are made
COMMUNES = ("54999", "57999", "88999")
REFERENTS = {"54999": "referent-ent@villers-les-exemple.example.org",  # who declares for each commune
             "57999": "numerique@montigny-sur-exemple.example.org",
             "88999": "mairie@saint-exemple.example.org"}
SETTLED = ("sent", "cancelled")
AWARE_BEFORE = pendulum.duration(minutes=30)  # how long before its declaration a commune learnt of an incident


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) variables of os.environ for the block, which child processes inherit;
    restore them after."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def relay_env(primary: Relay, fallback: Relay | None = None, lease_seconds: int | None = None) -> dict[str, str | None]:
    """The SMTP settings that point the engine at the trial's relays (and the claim lease, when given)."""
    return {
        "INCIDENTS_SMTP_HOST": "127.0.0.1", "INCIDENTS_SMTP_PORT": str(primary.port),
        "INCIDENTS_SMTP_TIMEOUT": "20", "INCIDENTS_SMTP_USERNAME": None, "INCIDENTS_SMTP_PASSWORD": None,
        "INCIDENTS_SMTP_STARTTLS": None, "INCIDENTS_SMTP_TLS": None,
        "INCIDENTS_SMTP_FALLBACK_HOST": "127.0.0.1" if fallback else None,
        "INCIDENTS_SMTP_FALLBACK_PORT": str(fallback.port) if fallback else None,
        "INCIDENTS_SMTP_FALLBACK_TIMEOUT": "20" if fallback else None, "INCIDENTS_SMTP_FALLBACK_USERNAME": None,
        "INCIDENTS_SMTP_FALLBACK_PASSWORD": None, "INCIDENTS_SMTP_FALLBACK_STARTTLS": None,
        "INCIDENTS_SMTP_FALLBACK_TLS": None,
        "INCIDENTS_CLAIM_LEASE_SECONDS": str(lease_seconds) if lease_seconds is not None else None,
    }


@dataclass(frozen=True)
class Store:
    url: str
    folder: Path  # the trial's own folder: var/, pass outputs

    @property
    def kind(self) -> str:
        return "PostgreSQL" if self.url.startswith("postgresql") else "SQLite"


@contextmanager
def fresh_store(postgres: str | None = None, **env: str | None) -> Iterator[Store]:
    """A new simulation store (SQLite in a temporary folder, or a new database on the PostgreSQL server of
    `postgres`) and var/ folder, set in os.environ with `env` for the block; everything removed after."""
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trial-")))
        url = stack.enter_context(fresh_database(postgres)) if postgres else f"sqlite:///{folder / 'incidents.db'}"
        stack.enter_context(environment(INCIDENTS_DATABASE_URL=url, INCIDENTS_VAR_DIR=str(folder / "var"),
                                        INCIDENTS_CONFIG=None, INCIDENTS_TEMPLATES_DIR=None, PREFECT_API_URL=None,
                                        **env))
        
        # A simulation store, as `incidents simulate` makes one: passes may act as of instants after today, and
        # its mail goes only to an SMTP server on this machine.
        with session_scope() as session:
            mark_as_simulation(session)
        yield Store(url, folder)


@contextmanager
def postgres_or_server(postgres: str | None) -> Iterator[str]:
    """The PostgreSQL server named on the command line, else one started from the binaries for the run."""
    if postgres:
        yield postgres
    else:
        with postgres_server() as url:
            yield url


def declare(count: int, now: pendulum.DateTime, start: int = 0,
            aware_before: pendulum.Duration = AWARE_BEFORE) -> list[str]:
    """`count` declarations by the communes' referents in turn, each one transaction through the door, as
    benchmarks/burst.py makes them (without personal data: only the 48-hour alert runs, from `aware_before` before
    `now`); returns the references."""

    parties = load_parties()
    refs = []
    for index in range(start, start + count):
        commune = COMMUNES[index % len(COMMUNES)]
        referent = parties.person(REFERENTS[commune])
        assert referent is not None
        raw = {
            "title": f"Messagerie de l'ENT indisponible ({index})",
            "description": "Le prestataire de l'ENT signale une panne de la messagerie.",
            "declared_by": "municipality", "municipality": commune,
            "reporter": {"name": "Référent ENT", "email": "referent@example.org"},
            "aware_at": (now - aware_before).isoformat(), "categories": ["vendor"], "personal_data": "no",
        }
        declaration = parse_declaration(raw, parties, now)
        with session_scope() as session:
            refs.append(execute(session, Declare(declaration), referent, now, parties).ref)
    return refs


def alert_recipients() -> list[str]:
    """Who receives a commune's alert: the académie's alert contacts."""

    return [str(contact.email) for contact in load_parties().academy.alert_contacts]


def retry_instants(start: pendulum.DateTime, attempts: int) -> list[pendulum.DateTime]:
    """When a message first tried at `start` and failing every time is tried again, for `attempts` attempts in
    all, under the parties' retry policy (policy.retry)."""
    retry = load_parties().engine.retry_policy
    instants = [start]
    for attempt in range(1, attempts):
        instants.append(instants[-1].add(seconds=backoff_seconds(attempt, retry)))
    return instants


class PassCounts(Protocol):
    delivered: int
    failed: int


def pass_in_process(at: pendulum.DateTime) -> Any:
    """One engine pass in this process (flows.steps.engine_pass_bare), without Prefect."""

    return asyncio.run(engine_pass_bare(at))


@dataclass
class PassOutcome:
    returncode: int
    killed: bool
    result: dict[str, Any] | None  # the pass's JSON result, when it finished
    stderr: str

    @property
    def delivered(self) -> int:
        return int(self.result["delivered"]) if self.result else 0

    @property
    def failed(self) -> int:
        return int(self.result["failed"]) if self.result else 0

    @property
    def crashed(self) -> bool:
        """Exited non-zero or printed a traceback, though nobody killed it."""
        return not self.killed and (self.returncode != 0 or "Traceback" in self.stderr)


class PassProcess:
    """One engine pass as its own OS process (`python -m trials.pass_once`), inheriting os.environ. It imports
    the engine at once, then waits for `release()` before it acts, so that a trial can start it at a moment of its
    choosing without waiting for Python's imports."""

    _counter = 0

    def __init__(self, store: Store, at: pendulum.DateTime | None) -> None:
        PassProcess._counter += 1
        stem = store.folder / f"pass-{PassProcess._counter:03d}"
        self.go = stem.with_suffix(".go")
        self._stdout, self._stderr = stem.with_suffix(".out"), stem.with_suffix(".err")
        self.killed = False
        args = [sys.executable, "-m", "trials.pass_once", "--go", str(self.go)]
        if at is not None:
            args += ["--at", at.isoformat()]
        with self._stdout.open("wb") as out, self._stderr.open("wb") as err:
            self.process = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err)
        self.released_at: float | None = None

    def wait_ready(self, timeout: float = 300) -> None:
        """Wait until the process has imported the engine and waits for its release (or has ended)."""
        ready = self.go.with_suffix(".ready")
        wait_until(lambda: ready.exists() or not self.running, timeout, f"{ready.name} to appear")

    def release(self) -> None:
        self.go.touch()
        self.released_at = time.monotonic()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGKILL)
            self.killed = True

    def finish(self, timeout: float = 300) -> PassOutcome:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
            raise
        stdout = self._stdout.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        result = None
        if self.process.returncode == 0 and stdout:
            result = json.loads(stdout[-1])
        return PassOutcome(self.process.returncode, self.killed, result,
                           self._stderr.read_text(encoding="utf-8", errors="replace"))


def pass_process(store: Store, at: pendulum.DateTime | None, timeout: float = 300) -> PassOutcome:
    """One pass as its own process, started at once and waited for."""
    process = PassProcess(store, at)
    process.release()
    return process.finish(timeout)


def passes_until_quiet(run_pass: Callable[[pendulum.DateTime], PassCounts], start: pendulum.DateTime,
                       every: pendulum.Duration, max_passes: int = 12, pause: float = 0.0) -> int:
    """Passes at `start`, `start + every`, … until one delivers and fails nothing with no message left to send;
    returns how many ran (max_passes + 1 means it never went quiet). After a pass that moved nothing while messages
    remain, wait `pause` seconds of wall clock (the claim lease of a killed pass, should leases run on it)."""
    at = start
    for count in range(1, max_passes + 1):
        counts = run_pass(at)
        if counts.delivered == 0 and counts.failed == 0:
            if not unsettled_messages():
                return count
            time.sleep(pause)
        at = at + every
    return max_passes + 1


@dataclass(frozen=True)
class StoredMessage:
    id: int
    ref: str | None
    template: str
    step: str
    status: str
    recipient: str
    obligation_id: int | None
    obligation_kind: str | None
    message_id: str  # the Message-ID its e-mail carries (notifications.transport.message_id_for)


def stored_messages() -> list[StoredMessage]:
    """Every outbox row, with its incident's reference, its obligation's kind and its Message-ID."""

    domain = str(load_parties().academy.mail_from).split("@")[1]
    with session_scope() as session:
        refs = {incident_id: ref for incident_id, ref in session.exec(select(Incident.id, Incident.ref))}
        kinds = {obligation_id: kind for obligation_id, kind in session.exec(select(Obligation.id, Obligation.kind))}
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [StoredMessage(id=row.id or 0, ref=refs.get(row.incident_id) if row.incident_id else None,
                              template=row.template, step=row.step, status=row.status,
                              recipient=row.recipient_email, obligation_id=row.obligation_id,
                              obligation_kind=kinds.get(row.obligation_id) if row.obligation_id else None,
                              message_id=message_id_for(row.idempotency_key, domain))
                for row in rows]


def unsettled_messages() -> int:
    """Messages neither sent nor cancelled (pending, being sent, refused…)."""
    return sum(1 for message in stored_messages() if message.status not in SETTLED)


def duplicates(arrivals: Iterable[Arrival]) -> Counter[str]:
    """Message-ID → how many times more than once it was received."""
    counts = Counter(arrival.message_id for arrival in arrivals)
    return Counter({message_id: count - 1 for message_id, count in counts.items() if count > 1})


def lost(stored: list[StoredMessage], arrivals: Iterable[Arrival]) -> list[StoredMessage]:
    """Messages not delivered: not marked sent in the store (and not cancelled), or marked sent though their
    Message-ID never reached the relay."""
    received = {arrival.message_id for arrival in arrivals}
    return [message for message in stored
            if message.status != "cancelled" and (message.status != "sent" or message.message_id not in received)]


def trial_arguments(description: str, size: int, size_help: str) -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description=description,
                                        formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("--size", type=int, default=size, help=f"{size_help} (default {size})")
    arguments.add_argument("--postgres", metavar="URL", default=None,
                           help="a PostgreSQL server (postgresql+psycopg://user@host:port/db) whose user may create "
                                "databases: the trial runs in a fresh database there, dropped after")
    return arguments


class Counts(Protocol):
    @property
    def holds(self) -> bool: ...

    def lines(self) -> list[str]: ...


def report(counts: Counts) -> int:
    """Print the counts, one a line, and the verdict; the exit status: 0 when the property holds, 1 otherwise."""
    for line in counts.lines():
        print(line)
    print("propriété vérifiée" if counts.holds else "PROPRIÉTÉ NON VÉRIFIÉE")
    return 0 if counts.holds else 1


def wait_for_arrivals(relay: Relay, count: int, process: PassProcess, timeout: float) -> None:
    """Wait until `relay` has accepted `count` messages in all, or the pass process has ended."""
    wait_until(lambda: relay.accepted >= count or not process.running, timeout,
               f"{count} messages at the {relay.name} relay")
