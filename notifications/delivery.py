"""Deliver outbox messages: claim a batch, prepare it (render what needs it, count the attempt, serialize), send
over several SMTP connections side by side, and record what the relay accepted in small groups, each group one
transaction through the door, while the sends go on.

Safe to run twice or concurrently: claims carry a token and a lease on the wall clock, renewed while the pass runs,
and a message is sent only while its claim is still this pass's. The only way a message leaves twice is a process
that dies after the relay accepted it and before its delivery was recorded (at most the messages it was sending,
and those waiting for their group's record); it then leaves again with the same Message-ID, so that mail clients
show it once."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple, TypeVar

import pendulum
from sqlalchemy import select as columns
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, col, select

from models import locks
from models.cadence import NOTICE_TEMPLATES
from models.checkpoints import CHECKPOINT_HEADER
from models.checkpoints import header_value as checkpoint_header
from models.checkpoints import latest as latest_checkpoint
from models.commands import RecordDelivery, RecordFailure
from models.db import in_transaction, read_scope, session_scope
from models.door import ENGINE, run, run_all
from models.incident import Incident
from models.messaging import begin_attempt, claim_batch, due_for_delivery, release_claims, renew_claims, store_rendering
from models.obligation import Obligation
from models.outbox import MailFile, MessageStatus, OutboxMessage, files_of
from notifications.calendar import deadline_event
from notifications.context import ATTACHED, CONTEXTS, CROSS_PARTY, OBLIGATION_LABELS, WITH_CALENDAR
from notifications.transport import (
    DeliveryError,
    Outgoing,
    Transport,
    build_email,
    configured_transport,
    fallback_transport,
    mark_as_drill,
    message_id_for,
    thread_id_for,
)
from policy.clocks import ObligationKind
from policy.parties import Party
from rendering.environment import render_message
from settings.env import claim_lease_seconds, smtp_connections
from settings.parties import Parties

BATCH_SIZE = 50
SEND_GRACE_SECONDS = 30  # how long a stopping pass lets the sends under way end
T = TypeVar("T")


def boot_clock() -> float:
    """Seconds on a clock that also counts the time a machine spends suspended (Linux's CLOCK_BOOTTIME), unlike the
    monotonic clock: a pass that resumes after a suspension knows its claims may have run out."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) if hasattr(time, "CLOCK_BOOTTIME") else time.monotonic()


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Prepared:
    message_id: int
    outgoing: Outgoing
    incident_id: int | None
    template: str
    too_large: str | None  # why it is refused before it reaches the relay
    attempt_started: float  # on the boot clock: the claim holds a lease from then


class Rendering(NamedTuple):
    """What a message's first attempt rendered, stored with that attempt."""

    subject: str
    text: str
    html: str
    ics: str | None
    files: tuple[MailFile, ...]


@dataclass(frozen=True)
class Composed:
    message_id: int
    rendering: Rendering | None  # rendered by this attempt, to be stored with it; None when it was stored already
    outgoing: Outgoing
    incident_id: int | None
    template: str
    too_large: str | None


@dataclass(frozen=True)
class Claimed:
    message_id: int
    obligation_id: int | None
    fulfils: bool  # delivering it meets its obligation
    notice: bool  # a notice about its obligation, which meeting the obligation cancels


@dataclass(frozen=True)
class Accepted:
    """A message the relay accepted, waiting for its delivery to be recorded."""

    prepared: Prepared
    transport: str


def _drained(queue: "asyncio.Queue[T]") -> list[T]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def deliverable_ids(now: pendulum.DateTime, incident_id: int | None = None) -> list[int]:
    """Messages a pass would claim as of `now` (read only)."""
    with session_scope() as session:
        query = select(OutboxMessage.id).where(due_for_delivery(now, pendulum.now("UTC")))
        if incident_id is not None:
            query = query.where(OutboxMessage.incident_id == incident_id)
        return [message_id for message_id in session.exec(query.order_by(col(OutboxMessage.id))) if message_id]


async def deliver(parties: Parties, now: pendulum.DateTime, incident_id: int | None = None,
                  transport: Transport | None = None) -> DeliveryReport:
    """Deliver every message due as of `now` (the replay instant, for the retry rule), batch after batch, those
    queued meanwhile included (a failure notice): a failed message is due again only after its backoff. With
    `transport`, over that one connection; else over `INCIDENTS_SMTP_CONNECTIONS` connections to the relay."""
    transports = [transport] if transport else [configured_transport() for _ in range(smtp_connections())]
    pass_ = _Pass(parties, now, transports, fallback_transport())
    try:
        await pass_.run(incident_id)
    finally:
        await pass_.close()
    return pass_.report


class _Pass:
    """One delivery pass: its claim token, its lease kept alive while it runs, its relays, the messages prepared and
    waiting for a connection, those accepted and waiting for their record, and what happened."""

    def __init__(self, parties: Parties, now: pendulum.DateTime, transports: list[Transport],
                 fallback: Transport | None) -> None:
        self.parties, self.now, self.transports, self.fallback = parties, now, transports, fallback
        self.token, self.lease = uuid.uuid4().hex, claim_lease_seconds()
        self.report = DeliveryReport()
        self._checkpoint: str | None | bool = False  # the latest signed checkpoint, read once by the pass
        self._held_until = 0.0  # on the boot clock: until when this pass's claims surely hold
        self._sending: set[asyncio.Timeout] = set()
        self._unsent: set[int] = set()  # claimed, not yet handed to a relay: given back if the pass stops early
        self._meeting: set[int] = set()  # obligations that messages in flight will meet once recorded
        self._stopped = False  # the pass ended early (an error, a cancellation): connections are dropped, not quit
        self._to_send: asyncio.Queue[Prepared | None] = asyncio.Queue(maxsize=2 * len(transports))
        self._to_record: asyncio.Queue[Accepted | None] = asyncio.Queue()
        self._heartbeat = asyncio.create_task(self._keep_claims())
        self._workers: list[asyncio.Task[None]] = []
        self._store = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery-store")

    async def run(self, incident_id: int | None) -> None:
        self._workers = [asyncio.create_task(self._sender(transport)) for transport in self.transports]
        self._workers.append(asyncio.create_task(self._recorder()))
        try:
            while True:
                batch = await self._database(self._claim, incident_id)
                if not batch:
                    # What the records queue (a notice that mail got through) is due in this very pass.
                    await self._drain()
                    batch = await self._database(self._claim, incident_id)
                    if not batch:
                        break
                await self._feed(batch)
            for _ in self.transports:
                await self._until(self._to_send.put(None))
            await self._until(asyncio.gather(*self._workers[:-1]))
            await self._until(self._to_record.put(None))
            await self._until(self._workers[-1])
        except BaseException:
            self._stopped = True
            raise
        finally:
            if self._stopped:
                await self._let_sends_end()
            for worker in self._workers:
                worker.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            # What the relay accepted is recorded even when the pass stops early (Ctrl-C, an error): only a process
            # that dies may send a message again.
            accepted = [item for item in _drained(self._to_record) if item is not None]
            if accepted:
                self._record_deliveries(accepted)
            self._release(sorted(self._unsent))

    async def _feed(self, batch: list[Claimed]) -> None:
        """Prepare and queue the batch for sending. A notice about an obligation (a reminder, a failure notice)
        waits until the messages in flight that meet that obligation are recorded: meeting it cancels the notice,
        which must then never leave, neither before nor after them."""
        ready: list[int] = []
        for claimed in batch:
            if claimed.notice and claimed.obligation_id in self._meeting:
                await self._send_all(ready)
                ready = []
                await self._drain()
            ready.append(claimed.message_id)
            if claimed.fulfils and claimed.obligation_id is not None:
                self._meeting.add(claimed.obligation_id)
        await self._send_all(ready)

    async def _send_all(self, message_ids: list[int]) -> None:
        # Prepared a few at a time, as the connections free up: each write transaction stays short, so that the
        # renewal of the claims and the records of what was sent never wait long behind it.
        step = self._to_send.maxsize
        for start in range(0, len(message_ids), step):
            for prepared in await self._database(self._prepare_batch, message_ids[start:start + step]):
                await self._until(self._to_send.put(prepared))

    async def _drain(self) -> None:
        """Wait until everything queued is sent (or has failed) and recorded."""
        await self._until(self._to_send.join())
        await self._until(self._to_record.join())
        self._meeting.clear()

    async def _let_sends_end(self) -> None:
        """On an early stop (Ctrl-C, an error), the sends under way end and are recorded — their messages have reached
        the relay, or nearly: cut off, they would be sent again — while nothing more starts (what waits is given
        back). A second interruption cuts it short."""
        for _ in _drained(self._to_send):
            self._to_send.task_done()
        senders = [worker for worker in self._workers[:-1] if not worker.done()]
        for _ in senders:
            self._to_send.put_nowait(None)
        if senders:
            await asyncio.wait(senders, timeout=min(self.lease / 2, SEND_GRACE_SECONDS))
        recorder = self._workers[-1]
        if not recorder.done():  # it records what the sends left, then ends
            self._to_record.put_nowait(None)
            await asyncio.wait([recorder], timeout=SEND_GRACE_SECONDS)

    async def _until(self, step: Awaitable[T]) -> T:
        """Await `step`, unless a sender or the recorder stops first on an error: that error stops the pass."""
        waiting = asyncio.ensure_future(step)
        await asyncio.wait([waiting, *self._workers], return_when=asyncio.FIRST_COMPLETED)
        for worker in self._workers:
            if worker.done() and not worker.cancelled() and worker.exception() is not None:
                waiting.cancel()
                raise worker.exception()  # type: ignore[misc]
        return await waiting

    async def _database(self, work: Callable[..., T], *args: object) -> T:
        """A transaction off the event loop, so that the sends in progress go on meanwhile; on the pass's one
        database thread, so that its own transactions never wait on each other for SQLite's write lock (whose
        busy handler sleeps)."""
        return await asyncio.get_running_loop().run_in_executor(self._store, partial(work, *args))

    def _claim(self, incident_id: int | None) -> list[Claimed]:
        def work(session: Session) -> list[Claimed]:
            ids = claim_batch(session, token=self.token, replay_now=self.now, lease_seconds=self.lease,
                              limit=BATCH_SIZE, incident_id=incident_id)
            rows = {row[0]: row for row in session.execute(columns(
                col(OutboxMessage.id), col(OutboxMessage.obligation_id), col(OutboxMessage.fulfils),
                col(OutboxMessage.template)).where(col(OutboxMessage.id).in_(ids)))}
            return [Claimed(message_id, rows[message_id][1], rows[message_id][2],
                            rows[message_id][3] in NOTICE_TEMPLATES) for message_id in ids]

        claimed = in_transaction(work)
        self._unsent.update(item.message_id for item in claimed)
        return claimed

    def _release(self, untried: list[int]) -> None:
        """What this pass had not tried yet is due again at once, not after the lease."""
        if untried:
            in_transaction(lambda session: release_claims(session, self.token, untried))
            self._unsent.difference_update(untried)

    async def _keep_claims(self) -> None:
        """Renew this pass's claims a few times per lease: they outlive a slow relay, not a dead or paused process.
        A send in progress may go on as long as the claims are renewed."""
        while True:
            await asyncio.sleep(self.lease / 4)
            renewed_at = boot_clock()
            with contextlib.suppress(DBAPIError):
                # On a thread of its own, not behind the pass's other transactions: a renewal must come in time.
                await asyncio.to_thread(in_transaction,
                                        lambda session: renew_claims(session, self.token, self.lease))
                self._hold(renewed_at)

    def _hold(self, since: float) -> None:
        """The claims hold a lease from `since`; a send must end a quarter lease before another pass may take over."""
        self._held_until = max(self._held_until, since + self.lease)
        loop_deadline = asyncio.get_running_loop().time() + self._held_until - boot_clock() - self.lease / 4
        for sending in self._sending:
            if not sending.expired():
                sending.reschedule(loop_deadline)

    async def close(self) -> None:
        self._heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._heartbeat
        for transport in [*self.transports, *([self.fallback] if self.fallback else [])]:
            if self._stopped:
                transport.abort()  # a QUIT would let the relay finish a message cut off mid-DATA: sent, unrecorded
            else:
                await transport.close()
        self._store.shutdown(wait=True)

    def _prepare_batch(self, batch: list[int]) -> list[Prepared]:
        """Compose the batch's e-mails from one read snapshot (rendering what was never rendered), with no write lock
        held; then, in one short write transaction, count each attempt and store what was rendered, for the
        messages whose claim is still this pass's. A message that cannot be composed fails alone."""
        composed: list[Composed] = []
        with read_scope() as session:
            _held = _rows_of(session, batch)  # referenced while the batch is composed: read once, not per message
            for message_id in batch:
                try:
                    item = self._compose(session, message_id)
                except SQLAlchemyError:
                    raise
                except Exception as error:  # noqa: BLE001 - one message that cannot be built must not stop the pass
                    self._unsent.discard(message_id)
                    self._unbuildable(message_id, error)
                    continue
                if item is not None:
                    composed.append(item)

        def begin_all(session: Session) -> list[Prepared]:
            locks.lock(session, OutboxMessage, [item.message_id for item in composed])
            return [begun for item in composed if (begun := self._begin(session, item))]

        prepared = in_transaction(begin_all)
        taken = {begun.message_id for begun in prepared}
        self._unsent.difference_update(message_id for message_id in batch if message_id not in taken)
        for begun in [begun for begun in prepared if begun.too_large]:
            self._unsent.discard(begun.message_id)
            self._record_failure(begun.message_id, begun.incident_id, str(begun.too_large), permanent=True)
        return [begun for begun in prepared if not begun.too_large]

    async def _sender(self, transport: Transport) -> None:
        while (prepared := await self._to_send.get()) is not None:
            try:
                await self._send(transport, prepared)
            finally:
                self._to_send.task_done()
        self._to_send.task_done()

    async def _send(self, transport: Transport, prepared: Prepared) -> None:
        message_id = prepared.message_id
        # A send starts, and goes on, only while the claim surely is still this pass's: a process paused past its
        # lease (stopped, or on a suspended machine) must not send what another pass has taken over meanwhile.
        self._hold(prepared.attempt_started)
        remaining = self._held_until - boot_clock() - self.lease / 4
        if remaining <= 0:
            await self._database(self._release, [message_id])
            return
        self._unsent.discard(message_id)
        # The notices that mail is failing go by the second relay when there is one: not through the one failing.
        if prepared.template == "delivery_failure" and self.fallback:
            transport = self.fallback
        try:
            async with asyncio.timeout(remaining) as sending:
                self._sending.add(sending)
                try:
                    await transport.send(prepared.outgoing)
                finally:
                    self._sending.discard(sending)
        except DeliveryError as error:
            await self._database(self._record_failure, message_id, prepared.incident_id, str(error),
                                 error.permanent)
            return
        except TimeoutError:  # a renewal failed to come (the process was paused): the message may be another's now
            transport.abort()  # dropped, not quit: a QUIT would let the relay finish and accept the message cut off
            await self._database(self._record_failure, message_id, prepared.incident_id,
                                 "délai de la réservation dépassé pendant l'envoi", False)
            return
        self._to_record.put_nowait(Accepted(prepared, transport.name))

    async def _recorder(self) -> None:
        """Record the accepted messages as they come: all those waiting, in one transaction, while the next are
        being sent."""
        while True:
            waiting = [await self._to_record.get()]
            while not self._to_record.empty():
                waiting.append(self._to_record.get_nowait())
            accepted = [item for item in waiting if item is not None]
            try:
                if accepted:
                    await self._database(self._record_deliveries, accepted)
            finally:
                for _ in waiting:
                    self._to_record.task_done()
            if None in waiting:
                return

    def _record_deliveries(self, accepted: list[Accepted]) -> None:
        commands = [RecordDelivery(incident_id=item.prepared.incident_id, message_id=item.prepared.message_id,
                                   transport=item.transport,
                                   smtp_message_id=str(item.prepared.outgoing.email["Message-ID"]),
                                   claim_token=self.token) for item in accepted]
        run_all(commands, ENGINE, self.now, self.parties)
        self.report.delivered.extend(command.message_id for command in commands)

    def _unbuildable(self, message_id: int, error: Exception) -> None:
        """A message that cannot be rendered (an académie's template with an error, say) counts as a failed attempt:
        retried with backoff, then escalated, like a relay that refuses it for now."""
        attempted = in_transaction(lambda session: begin_attempt(session, message_id, self.token, self.lease))
        if attempted is None:
            return
        self._record_failure(message_id, attempted.incident_id, f"message impossible à composer "
                                                                 f"({type(error).__name__}: {error})"[:500],
                             permanent=False)

    def _record_failure(self, message_id: int, incident_id: int | None, error: str, permanent: bool) -> None:
        escalated = run(RecordFailure(incident_id=incident_id, message_id=message_id, error=error,
                                      permanent=permanent, claim_token=self.token), ENGINE, self.now, self.parties)
        (self.report.refused if permanent else self.report.failed).append(message_id)
        if escalated:
            self.report.escalated.append(message_id)

    def _compose(self, session: Session, message_id: int) -> Composed | None:
        """The e-mail as it will leave (rendered now if it never was), if the claim is still this pass's."""
        message = session.get(OutboxMessage, message_id)
        if message is None or message.status != MessageStatus.SENDING or message.claim_token != self.token:
            return None
        parties, now = self.parties, self.now
        incident = session.get(Incident, message.incident_id) if message.incident_id else None
        ref = incident.ref if incident else "rapports"
        domain = str(parties.academy.mail_from).split("@")[1]
        rendering = None
        if not message.rendered:
            assert incident is not None  # only incident messages are rendered at delivery
            rendered = render_message(message.template,
                                      CONTEXTS[message.template](session, message, incident, parties, now))
            attach = ATTACHED.get(message.template)
            rendering = Rendering(rendered.subject, rendered.text, rendered.html,
                                  _calendar(session, message, ref, domain, now),
                                  tuple(attach(session, message, incident, parties, now)) if attach else ())
            subject, text, html, ics, files = rendering
        else:
            assert message.subject is not None and message.body_text is not None and message.body_html is not None
            subject, text, html, ics = message.subject, message.body_text, message.body_html, message.attachment_ics
            files = tuple(files_of(session, message_id))
        # An answer to what one party tells the other goes to the party that declared (the robot address reads
        # nothing); the mails of an incident form one thread.
        reply_to = [(c.name, str(c.email)) for c in parties.operational_contacts(Party(incident.declared_by),
                                                                                  incident.municipality_insee)] \
            if incident is not None and message.template in CROSS_PARTY else None
        email = build_email(
            sender=str(parties.academy.mail_from), sender_name=f"Incidents ENT – {parties.academy.name}",
            recipient=message.recipient_email, recipient_name=message.recipient_name, subject=subject,
            text=text, html=html, ics=ics, files=files,
            message_id=message_id_for(message.idempotency_key, domain), ref=ref, now=now, reply_to=reply_to,
            thread=thread_id_for(ref, domain) if incident is not None else None,
        )
        if self._checkpoint is False:
            self._checkpoint = checkpoint_header(latest_checkpoint(session))
        if self._checkpoint:
            # Published where the operator cannot take it back: every recipient keeps the log's latest tree head.
            email[CHECKPOINT_HEADER] = self._checkpoint
        if self.transports[0].drill:
            mark_as_drill(email)
        outgoing = Outgoing.of(email, ref)
        # Counted as it goes on the wire: its files, base64-encoded, included.
        size, limit = len(outgoing.wire), parties.engine.max_message_kilobytes * 1024
        too_large = f"message trop volumineux ({size // 1024} Ko, limite {limit // 1024} Ko)" if size > limit else None
        return Composed(message_id, rendering, outgoing, message.incident_id, message.template, too_large)

    def _begin(self, session: Session, composed: Composed) -> Prepared | None:
        """Count the attempt, hold the claim a full lease from now and store what was rendered, if the claim is
        still this pass's (the rendering is stored once: resends carry the very same text)."""
        attempt_started = boot_clock()
        message = begin_attempt(session, composed.message_id, self.token, self.lease)
        if message is None:
            return None
        if composed.rendering is not None:
            subject, text, html, ics, files = composed.rendering
            store_rendering(session, message, subject, text, html, ics, files)
        return Prepared(composed.message_id, composed.outgoing, composed.incident_id, composed.template,
                        composed.too_large, attempt_started)


def _rows_of(session: Session, message_ids: list[int]) -> list[object]:
    """The messages, their incidents and those incidents' obligations, each table in one query: the session's
    identity map then answers the reads of composing them, for as long as the caller holds the list."""
    messages = list(session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(message_ids))))
    incident_ids = {message.incident_id for message in messages if message.incident_id is not None}
    if not incident_ids:
        return list(messages)
    return [*messages, *session.exec(select(Incident).where(col(Incident.id).in_(incident_ids))),
            *session.exec(select(Obligation).where(col(Obligation.incident_id).in_(incident_ids)))]


def _calendar(session: Session, message: OutboxMessage, ref: str, domain: str, now: pendulum.DateTime) -> str | None:
    if message.template not in WITH_CALENDAR or message.obligation_id is None:
        return None
    obligation = session.get(Obligation, message.obligation_id)
    assert obligation is not None
    label = OBLIGATION_LABELS[ObligationKind(obligation.kind)]
    return deadline_event(uid=f"{ref}-{obligation.kind}-{obligation.id}@{domain}",
                          summary=f"[{ref}] Échéance : {label}",
                          description=f"Échéance de l'obligation « {label} » pour l'incident {ref}.",
                          due_at=pendulum.instance(obligation.due_at), stamp=now)
