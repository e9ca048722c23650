"""Shared fixtures: one Prefect server per session, a fresh store and mail folder per test, a real SMTP server."""

import asyncio
import os
import signal
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

_PREFECT_HOME = tempfile.mkdtemp(prefix="prefect-home-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from cli.main import app  # noqa: E402  (after the Prefect environment is set)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One real Prefect API server for the whole session; yields its URL for subprocesses."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """A fresh SQLite store and var/ folder per test, with the example parties' file. Tests replay rules as of
    chosen instants, some after today: their store is a simulation (as `incidents simulate` makes one), unless the
    test is marked `real_store`. Readers default to the académie's auditor; every change names its person."""
    var = tmp_path / "var"
    monkeypatch.setenv("INCIDENTS_VAR_DIR", str(var))
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'incidents.db'}")
    monkeypatch.setenv("INCIDENTS_ACTOR", AUDITOR)
    monkeypatch.delenv("INCIDENTS_CONFIG", raising=False)
    monkeypatch.delenv("INCIDENTS_SMTP_HOST", raising=False)
    monkeypatch.delenv("INCIDENTS_TEMPLATES_DIR", raising=False)
    if request.node.get_closest_marker("real_store") is None:
        from models.db import session_scope
        from models.store_mode import mark_as_simulation

        with session_scope() as session:
            mark_as_simulation(session)
    return tmp_path / "incidents.db"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


@dataclass
class MailHandler:
    """An aiosmtpd handler that records what it accepts; it can hold or refuse the DATA of a message."""

    received: list[Received] = field(default_factory=list)
    hold: bool = False
    refuse: int = 0  # how many next messages to refuse with a 451
    held: Any = None  # a threading.Event set when a message is being held
    reject: set[str] = field(default_factory=set)  # mailboxes refused at RCPT with a 550 (for good)
    defer: set[str] = field(default_factory=set)  # mailboxes refused at RCPT with a 451 (for now)
    deny_relay: set[str] = field(default_factory=set)  # mailboxes the relay will not relay to (554 5.7.1, policy)
    too_large: int = 0  # how many next messages to refuse with a 552 at the end of DATA
    delay: float = 0.0  # seconds before answering the end of DATA (a slow relay)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address in self.reject:
            return "550 5.1.1 Mailbox unavailable"
        if address in self.defer:
            return "451 4.2.0 Mailbox busy, try again later"
        if address in self.deny_relay:
            return "554 5.7.1 Relay access denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold:
            if self.held is not None:
                self.held.set()
            while self.hold:
                await asyncio.sleep(0.05)
            return "451 4.3.0 Message dropped, try again later"
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Service temporarily unavailable"
        if self.too_large > 0:
            self.too_large -= 1
            return "552 5.3.4 Message size exceeds fixed limit"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str, subject: str = "") -> list[Received]:
        return [mail for mail in self.received if address in mail.recipients and subject in mail.message["Subject"]]

    def subjects(self) -> list[tuple[str, str]]:
        """(recipient, subject) of everything received, for exact assertions on who got what."""
        return sorted((rcpt, str(mail.message["Subject"])) for mail in self.received for rcpt in mail.recipients)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailHandler]:
    handler = MailHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("INCIDENTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("INCIDENTS_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("INCIDENTS_SMTP_TIMEOUT", "20")
    try:
        yield handler
    finally:
        handler.hold = False
        controller.stop()


@dataclass
class Cli:
    """Runs `incidents` in-process, as a user would type it."""

    runner: CliRunner

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(app, list(args), catch_exceptions=False, prog_name="incidents")


@pytest.fixture
def cli(prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Orchestrated commands talk to the session's Prefect server, as they would to a configured PREFECT_API_URL."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    return Cli(CliRunner())


@pytest.fixture
def plain_cli() -> Cli:
    """For commands that never orchestrate: no Prefect server needed."""
    return Cli(CliRunner())


BASE_DECLARATION: dict[str, Any] = {
    "title": "Messagerie de l'ENT accessible sans authentification",
    "description": "Le prestataire signale une mise à jour défectueuse de la messagerie.",
    "declared_by": "municipality",
    "municipality": "54999",
    "reporter": {"name": "Référent ENT", "email": "referent-ent@villers-les-exemple.example.org"},
    "aware_at": "2026-11-28T09:30:00+01:00",
    "categories": ["vendor"],
    "personal_data": "no",
}

AUDITOR = "audit-ent@ac-nancy-metz.example.org"
TRIAGER = "rssi@ac-nancy-metz.example.org"
DPD = "dpd@ac-nancy-metz.example.org"
REFERENT = "referent-ent@villers-les-exemple.example.org"
ADMIN = "admin-ent@ac-nancy-metz.example.org"
ACADEMY_ALERTS = ["rssi@ac-nancy-metz.example.org", "dsden54-numerique@ac-nancy-metz.example.org"]
ACADEMY_ESCALATION = "dsi@ac-nancy-metz.example.org"
MUNICIPALITY_REFERENT = "referent-ent@villers-les-exemple.example.org"
MUNICIPALITY_ESCALATION = "cabinet@villers-les-exemple.example.org"
ACADEMY_REPORTER = {"name": "RSSI", "email": "rssi@ac-nancy-metz.example.org"}


def write_declaration(folder: Path, name: str = "declaration.yaml", **changes: Any) -> Path:
    """A valid declaration with some fields changed (a value of None removes the field)."""
    data = {**BASE_DECLARATION, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(params=["one process", "two processes"])
def verify_processes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """`incidents verify` as it runs on a small store (one process), and as it runs on a large one: the chain
    checked in a second process while this one checks the records (models/verification.py)."""
    if request.param == "two processes":
        monkeypatch.setattr("models.verification.PARALLEL_FROM", 0)
    return str(request.param)


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background by a non-interactive shell (`scripts/test &`) inherits Ctrl-C ignored, and
    so would every service and pass it starts: the trials that interrupt them would wait in vain. Ctrl-C is given
    back its default meaning, for this process and the processes it starts."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
