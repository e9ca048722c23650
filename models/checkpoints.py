"""Signed checkpoints of the timeline: the size and root of an RFC 9162 Merkle tree over every entry (its leaf, the
entry's canonical text), signed with an Ed25519 key kept outside the database, so that what the académie's server
shows can be checked against what it published earlier (mail headers, reports), by anyone holding its public key.

The checkpoints are bookkeeping of the proof, not facts of an incident: they are written through the door
(`SignCheckpoint`, by the engine) but put nothing on the timeline, which they would otherwise grow at every pass.

Before it signs again, the log checks that the store still holds what it signed last (`rewritten`): each note
carries, signed, the chain hash of the last entry it covers, and the last note signed is also kept beside the key,
outside the database. Entries rewritten (every later hash recomputed) or deleted, even with the checkpoints deleted
from the database to hide it: the engine refuses to sign a tree that does not extend its own last checkpoint, and
says why (`incidents status`), rather than vouch for a rewritten history.

When an RFC 3161 timestamping authority is configured (INCIDENTS_TSA_URL), each new note is countersigned by it and
its token kept beside the note; an authority that fails leaves the checkpoint signed, untimestamped, and says why."""

import base64
import contextlib
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.errors import Refused, cause
from models.timeline import ChainHead, TimelineEntry, canonical_texts
from models.types import UTCDateTime
from proof.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from proof.errors import ProofError
from proof.keys import LoadedKey, VerifierKey, load_signing_key
from proof.merkle import Frontier, leaf_hash
from proof.tree import MerkleTree
from rendering.formats import grouped

if TYPE_CHECKING:
    from proof.timestamping import Timestamp

LOG_NAME_SETTING = "INCIDENTS_LOG_NAME"
DEFAULT_LOG_NAME = "incidents-ent"  # the log's origin in every checkpoint; an académie names its own


class SignedCheckpoint(SQLModel, table=True):
    __tablename__ = "signed_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    size: int = Field(index=True)
    root: str = Field(max_length=64)  # hex
    note: str = Field(sa_column=Column(Text, nullable=False))  # the signed note, as published
    taken_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The tree's right edge at this size (proof.merkle.Frontier): the next checkpoint hashes only newer entries.
    frontier: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The RFC 3161 authority's TimeStampToken over the note's SHA-256 (DER, base64); else, when one is configured,
    # why it gave none (French, no personal data).
    timestamp_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    timestamp_problem: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    def timestamp(self) -> "Timestamp | None":
        """The stored token, read (who dated the note, when); its signature is checked by `verify --timestamp`."""
        from proof.timestamping import read_token  # the RFC 3161 library, loaded only where a token is

        return None if self.timestamp_token is None else read_token(base64.b64decode(self.timestamp_token))


def log_name() -> str:
    return os.environ.get(LOG_NAME_SETTING, DEFAULT_LOG_NAME)


def signing_key() -> LoadedKey:
    """The log's private key: INCIDENTS_CHECKPOINT_KEY or INCIDENTS_CHECKPOINT_KEY_FILE, else generated once under
    the var/ folder (never in the database)."""
    from settings.env import var_dir

    return load_signing_key(log_name(), var_dir())


def public_key() -> VerifierKey:
    """This installation's public key, for a check: never creates a key (load_signing_key's create=False)."""
    from settings.env import var_dir

    return load_signing_key(log_name(), var_dir(), create=False).key.verifier()


def latest(session: Session) -> SignedCheckpoint | None:
    return session.exec(select(SignedCheckpoint).order_by(col(SignedCheckpoint.size).desc(),
                                                          col(SignedCheckpoint.id).desc())).first()


def all_checkpoints(session: Session) -> list[SignedCheckpoint]:
    return list(session.exec(select(SignedCheckpoint).order_by(col(SignedCheckpoint.id))).all())


def leaves(session: Session, after_seq: int = 0, up_to_seq: int | None = None) -> list[bytes]:
    return [leaf_hash(text.encode("utf-8")) for text in canonical_texts(session, after_seq, up_to_seq)]


def tree(session: Session, size: int | None = None) -> MerkleTree:
    """The whole tree (or its first `size` leaves), rebuilt from the stored entries."""
    return MerkleTree(leaves(session, 0, size))


def chain_size(session: Session) -> int:
    head = session.get(ChainHead, 1)
    if head is not None:
        return head.seq
    return int(session.exec(select(func.count()).select_from(TimelineEntry)).one())


LAST_SIGNED_FILE = "checkpoint-latest.note"  # beside the key, under var/: the last note this log signed


def last_signed_file() -> Path:
    from settings.env import var_dir

    return var_dir() / LAST_SIGNED_FILE


def chain_hash_at(session: Session, seq: int) -> str | None:
    return session.exec(select(TimelineEntry.hash).where(TimelineEntry.seq == seq)).first()


def last_signed(session: Session, key: VerifierKey) -> tuple[Checkpoint | None, str | None]:
    """The latest checkpoint this log signed, from the store or the copy kept beside the key, whichever is larger,
    each verified with the log's key; and what is wrong if the store's latest does not verify."""
    held: list[Checkpoint] = []
    problem = None
    row = latest(session)
    if row is not None:
        try:
            held.append(open_checkpoint(row.note, key))
        except ProofError as error:
            problem = f"le dernier point de contrôle du registre ne vérifie pas avec la clé du journal ({error})"
    path = last_signed_file()
    if path.is_file():
        with contextlib.suppress(ProofError, OSError, UnicodeDecodeError):  # an unreadable copy is no evidence
            held.append(open_checkpoint(path.read_text(encoding="utf-8"), key))
    return max(held, key=lambda checkpoint: checkpoint.size, default=None), problem


def rewritten(session: Session, key: VerifierKey | None = None) -> str | None:
    """What shows that the store no longer extends the last checkpoint this log signed, in French; None if it
    does. Cheap: the chain hash the last note signed against the entry's stored one (an entry rewritten with every
    later hash recomputed changes it); `verify --checkpoint` proves the whole tree."""
    try:
        key = key or public_key()
    except ProofError:
        return None  # no key yet: nothing was signed
    signed, problem = last_signed(session, key)
    if problem is not None or signed is None:
        return problem
    size = chain_size(session)
    if size < signed.size:
        return (f"la chronologie ne compte plus que {grouped(size)} entrées, le dernier point de contrôle signé en "
                f"attestait {grouped(signed.size)} : des entrées ont été supprimées")
    if signed.chain is not None:
        found = chain_hash_at(session, signed.size)
        if found is None:  # the head still counts it: the entries were deleted, the head left as it was
            return (f"l'entrée n° {signed.size}, que le dernier point de contrôle signé atteste, a disparu : des "
                    "entrées ont été supprimées")
        if found != signed.chain:
            return (f"l'entrée n° {signed.size} n'a plus l'empreinte que le dernier point de contrôle signé atteste "
                    ": des entrées ont été réécrites, puis les empreintes recalculées")
    return None


def sign_now(session: Session, now: pendulum.DateTime) -> SignedCheckpoint | None:
    """A new signed checkpoint over every entry, unless the last one already covers them all; refused (Refused)
    when the store no longer extends the last one signed. The caller holds the chain head's lock (the door), so no
    entry lands between the size read and the root computed."""
    from models.store_mode import is_drill_copy

    if is_drill_copy(session):  # it shares the register's key and var/: a note of its own would fork the journal
        raise Refused("Point de contrôle non signé : ce registre est une copie d'exercice ; seul le registre réel "
                      "signe au nom du journal.")
    loaded = signing_key()
    verifier = loaded.key.verifier()
    problem = rewritten(session, verifier)
    if problem is not None:
        raise Refused(f"Point de contrôle non signé : {problem}.")
    size, previous = chain_size(session), latest(session)
    if previous is not None and previous.size >= size:
        return None
    frontier = _signed_frontier(session, previous, last_signed(session, verifier)[0])
    frontier.extend(leaves(session, frontier.size, size))
    checkpoint = Checkpoint(loaded.key.name, size, frontier.root(), pendulum.now("UTC"),
                            chain_hash_at(session, size) if size else None)
    note = sign_checkpoint(checkpoint, loaded.key)
    token, timestamp_problem = countersign_if_configured(note)
    row = SignedCheckpoint(size=size, root=checkpoint.root.hex(), note=note,
                           taken_at=pendulum.instance(checkpoint.taken_at or now), frontier=frontier.to_dict(),
                           timestamp_token=token, timestamp_problem=timestamp_problem)
    session.add(row)
    session.flush()
    _keep_beside_the_key(note)
    return row


def _signed_frontier(session: Session, previous: SignedCheckpoint | None, signed: Checkpoint | None) -> Frontier:
    """The tree's right edge at the last checkpoint signed, to extend with newer entries only: the stored one when it
    has the signed size and root (the note's, verified with the key, not the row's columns, which are in the
    database), else rebuilt from the stored entries and refused (Refused) unless it gives the signed root. The
    guard's one-hash check (`rewritten`) misses an entry altered before the last signed one with no hash
    recomputed: signing its rebuilt tree would vouch for a history that does not extend the last checkpoint."""
    if signed is None:
        return Frontier()
    if previous is not None:
        with contextlib.suppress(ProofError):
            stored = Frontier.from_dict(previous.frontier)
            if (stored.size, stored.root()) == (signed.size, signed.root):
                return stored
    frontier = Frontier()
    frontier.extend(leaves(session, 0, signed.size))
    if frontier.root() != signed.root:
        raise Refused(f"Point de contrôle non signé : les {grouped(signed.size)} premières entrées ne sont plus "
                      "celles que le dernier point de contrôle signé atteste : une entrée a été modifiée, insérée ou "
                      "supprimée.")
    return frontier


def countersign_if_configured(note: str) -> tuple[str | None, str | None]:
    """The configured authority's token over this signed note (base64), or why there is none; (None, None) when
    no authority is configured. Never raises: a timestamp adds to a checkpoint, it must not stop its signing nor
    the engine pass (the caller holds the chain head's lock: INCIDENTS_TSA_TIMEOUT bounds the wait)."""
    from proof.timestamping import TimestampError, configured_authority, countersign

    try:
        authority = configured_authority()
        if authority is None:
            return None, None
        return countersign(note, authority).encoded(), None
    except TimestampError as error:
        problem = str(error)
    except Exception as error:  # a library's surprise is still only a missing timestamp
        problem = f"l'horodatage a échoué ({cause(error)})"
    logging.getLogger(__name__).warning("Point de contrôle signé sans horodatage : %s.", problem)
    return None, problem


def _keep_beside_the_key(note: str) -> None:
    """The note, kept under var/ where the key is: the next signing checks the store against it, so deleting
    checkpoints from the database does not make the log forget what it signed. Written whole or not at all."""
    path = last_signed_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # A partial file of its own: passes of several processes sign concurrently. Written before the transaction
    # commits: a copy ahead of the store (a rollback) still names entries the store holds, so it refuses nothing.
    descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(note)
    os.replace(partial, path)


def record_checkpoint(session: Session, _command: Any, _incident: None, _actor: Any, _parties: Any,
                      now: pendulum.DateTime) -> SignedCheckpoint | None:
    """The door's handler (RG-DOOR-22): the chain head locked first, as every append does, then signed."""
    session.exec(select(ChainHead).where(ChainHead.id == 1).with_for_update()).one_or_none()
    return sign_now(session, now)


def extends(session: Session, note: str, key: VerifierKey) -> tuple[Checkpoint, str | None]:
    """The held checkpoint, verified with `key`, and what is wrong with today's tree against it (None: today's
    tree holds the same first entries, unchanged, in the same order)."""
    held = open_checkpoint(note, key)
    size = chain_size(session)
    if size < held.size:
        return held, (f"la chronologie ne compte plus que {grouped(size)} entrées, le point de contrôle en "
                      f"attestait {grouped(held.size)} : des entrées ont été supprimées")
    if held.size and tree(session, held.size).root() != held.root:
        return held, (f"les {grouped(held.size)} premières entrées ne sont plus celles que le point de contrôle "
                      "atteste : une entrée a été modifiée, insérée ou supprimée, puis les empreintes recalculées")
    return held, None


def summary(row: SignedCheckpoint | None) -> dict[str, Any] | None:
    """What a report prints of the latest checkpoint: its size, root and time, and the signed note itself, which
    a reader copies into a file and checks (`incidents verify --checkpoint FILE`, or offline with the public key)."""
    if row is None:
        return None
    return {"size": row.size, "root": row.root, "taken_at": pendulum.instance(row.taken_at).isoformat(),
            "note": row.note}


def timestamp_view(row: SignedCheckpoint) -> dict[str, Any] | None:
    """The checkpoint's timestamp as `incidents checkpoints` lists it: the token (DER, base64), who dated the
    note and when; None when it has none."""
    from proof.timestamping import TimestampError

    try:
        stamp = row.timestamp()
    except TimestampError as error:  # kept, but unreadable: shown as such rather than hidden
        return {"token": row.timestamp_token, "authority": None, "gen_time": None, "problem": str(error)}
    if stamp is None:
        return None
    return {"token": row.timestamp_token, "authority": stamp.authority,
            "gen_time": pendulum.instance(stamp.gen_time).isoformat()}


CHECKPOINT_HEADER = "X-Incidents-Checkpoint"


def header_value(row: SignedCheckpoint | None) -> str | None:
    """The latest checkpoint as a mail header carries it: the signed note, a text of several lines, as base64 on
    one line; a reader decodes it and checks it with the public key (README « Preuve »)."""
    if row is None:
        return None
    return base64.b64encode(row.note.encode("utf-8")).decode("ascii")
