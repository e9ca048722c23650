"""A recording SMTP relay on loopback (aiosmtpd) for the trials: it accepts, answers every DATA with a 451, or
refuses connections (stopped), optionally slowly; it records what it accepted, in arrival order."""

import asyncio
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from enum import StrEnum
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

# The Subject of each template (templates/mail/*.subject.txt.j2), to name what arrived without the store.
# The acknowledgement reminder's Subject also starts with "Rappel :": it is tried before the deadline step.
SUBJECT_TEMPLATES = (
    ("acknowledgement_reminder", re.compile(r"^\[[^]]+\] Rappel : merci d'accuser réception")),
    ("cross_party_alert", re.compile(r"^\[[^]]+\] Alerte incident de sécurité ENT")),
    ("declaration_receipt", re.compile(r"^\[[^]]+\] Accusé d'enregistrement de votre déclaration")),
    ("deadline_step", re.compile(r"^\[[^]]+\] (Rappel|Escalade|Échéance dépassée) : ")),
    ("delivery_failure", re.compile(r"^\[[^]]+\] Message (non remis à |pour .+ refusé définitivement)")),
    ("follow_up", re.compile(r"^\[[^]]+\] Point de suivi de l'incident")),
    ("final_report", re.compile(r"^\[[^]]+\] Rapport final")),
    ("breach_drafts", re.compile(r"^\[[^]]+\] Projets de notification CNIL")),
)


def template_of_subject(subject: str) -> str | None:
    """The template a Subject was rendered from, when it can be told from the Subject alone."""
    return next((name for name, pattern in SUBJECT_TEMPLATES if pattern.match(subject)), None)


class Mode(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"  # every DATA answered "451 4.3.0"


@dataclass(frozen=True)
class Arrival:
    """One message the relay accepted (answered 250 to)."""

    seq: int  # arrival order at this relay, from 1
    at: float  # time.monotonic() when accepted
    message_id: str
    recipients: tuple[str, ...]
    subject: str
    ref: str  # X-Incident-Ref
    template: str | None  # inferred from the Subject


class _Handler:
    def __init__(self, relay: "Relay") -> None:
        self.relay = relay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        self.relay.session_opened()  # until its answer: a killed client's session may close while DATA is handled
        try:
            return await self._answer(envelope)
        finally:
            self.relay.session_closed()

    async def _answer(self, envelope: Any) -> str:
        relay = self.relay
        if relay.delay > 0:
            await asyncio.sleep(relay.delay)
        if relay.mode is Mode.REFUSE:
            relay.count_refusal()
            return "451 4.3.0 Service temporarily unavailable"
        headers = BytesHeaderParser(policy=default_policy).parsebytes(envelope.content)
        subject = str(headers["Subject"] or "")
        relay.record(message_id=str(headers["Message-ID"] or "").strip(), recipients=tuple(envelope.rcpt_tos),
                     subject=subject, ref=str(headers["X-Incident-Ref"] or ""), template=template_of_subject(subject))
        return "250 Message accepted for delivery"


class _CountingSMTP(SMTP):  # type: ignore[misc]  # aiosmtpd ships no type hints
    """aiosmtpd's server, counting open sessions, so that a trial can wait for a killed client's to end."""

    def __init__(self, relay: "Relay", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._relay = relay

    def connection_made(self, transport: Any) -> None:
        self._relay.session_opened()
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            self._relay.session_closed()


class _Controller(Controller):  # type: ignore[misc]
    def __init__(self, relay: "Relay", port: int) -> None:
        super().__init__(_Handler(relay), hostname="127.0.0.1", port=port)
        self._relay = relay

    def factory(self) -> SMTP:
        return _CountingSMTP(self._relay, self.handler, **self.SMTP_kwargs)


class Relay:
    """An SMTP server on 127.0.0.1:`port`. Stopped, its port refuses connections (a relay that is down)."""

    def __init__(self, name: str, port: int, mode: Mode = Mode.ACCEPT, delay: float = 0.0) -> None:
        self.name, self.port, self.mode, self.delay = name, port, mode, delay
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []
        self._refusals = 0
        self._open_sessions = 0
        self._controller: _Controller | None = None

    def start(self) -> None:
        if self._controller is None:
            controller = _Controller(self, self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def record(self, *, message_id: str, recipients: tuple[str, ...], subject: str, ref: str,
               template: str | None) -> None:
        with self._lock:
            self._arrivals.append(Arrival(len(self._arrivals) + 1, time.monotonic(), message_id, recipients,
                                          subject, ref, template))

    def count_refusal(self) -> None:
        with self._lock:
            self._refusals += 1

    def session_opened(self) -> None:
        with self._lock:
            self._open_sessions += 1

    def session_closed(self) -> None:
        with self._lock:
            self._open_sessions -= 1

    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._arrivals)

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self._arrivals)

    @property
    def refusals(self) -> int:
        with self._lock:
            return self._refusals

    @property
    def open_sessions(self) -> int:
        with self._lock:
            return self._open_sessions

    def wait_idle(self, timeout: float) -> None:
        """Wait until no client holds a session (a killed client's connection has been seen closed) and no DATA is
        still being answered (its message recorded, or not, for good)."""
        wait_until(lambda: self.open_sessions <= 0, timeout, f"the {self.name} relay still has an open session")

    def __enter__(self) -> "Relay":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class TrialTimeout(Exception):
    """A condition a trial waits for did not come in time: the trial measured nothing."""


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.01) -> None:
    """Poll `condition` until it holds; raise TrialTimeout naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TrialTimeout(f"timed out after {timeout:.0f} s: {what}")
        time.sleep(poll)
