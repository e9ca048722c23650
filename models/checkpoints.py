"""Signed checkpoints of the timeline: the size and root of an RFC 9162 Merkle tree over every entry (its leaf, the
entry's canonical text), signed with an Ed25519 key kept outside the database, so that what the académie's server
shows can be checked against what it published earlier (mail headers, reports), by anyone holding its public key.

The checkpoints are bookkeeping of the proof, not facts of an incident: they are written through the door
(`SignCheckpoint`, by the engine) but put nothing on the timeline, which they would otherwise grow at every pass."""

import base64
import os
from datetime import datetime
from typing import Any

import pendulum
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.timeline import ChainHead, TimelineEntry, canonical_texts
from models.types import UTCDateTime
from proof.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from proof.keys import LoadedKey, VerifierKey, load_signing_key
from proof.merkle import Frontier, leaf_hash
from proof.tree import MerkleTree

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


def sign_now(session: Session, now: pendulum.DateTime) -> SignedCheckpoint | None:
    """A new signed checkpoint over every entry, unless the last one already covers them all. The caller holds the
    chain head's lock (the door), so no entry lands between the size read and the root computed."""
    size, previous = chain_size(session), latest(session)
    if previous is not None and previous.size >= size:
        return None
    frontier = Frontier.from_dict(previous.frontier) if previous is not None else Frontier()
    frontier.extend(leaves(session, frontier.size, size))
    loaded = signing_key()
    checkpoint = Checkpoint(loaded.key.name, size, frontier.root(), pendulum.now("UTC"))
    row = SignedCheckpoint(size=size, root=checkpoint.root.hex(), note=sign_checkpoint(checkpoint, loaded.key),
                           taken_at=pendulum.instance(checkpoint.taken_at or now), frontier=frontier.to_dict())
    session.add(row)
    session.flush()
    return row


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
        return held, (f"la chronologie ne compte plus que {size} entrées, le point de contrôle en attestait "
                      f"{held.size} : des entrées ont été supprimées")
    if held.size and tree(session, held.size).root() != held.root:
        return held, (f"les {held.size} premières entrées ne sont plus celles que le point de contrôle atteste : "
                      "une entrée a été modifiée, insérée ou supprimée, puis les empreintes recalculées")
    return held, None


def summary(row: SignedCheckpoint | None) -> dict[str, Any] | None:
    """What a report prints of the latest checkpoint: its size, root and time, and the signed note itself, which
    a reader copies into a file and checks (`incidents verify --checkpoint FILE`, or offline with the public key)."""
    if row is None:
        return None
    return {"size": row.size, "root": row.root, "taken_at": pendulum.instance(row.taken_at).isoformat(),
            "note": row.note}


CHECKPOINT_HEADER = "X-Incidents-Checkpoint"


def header_value(row: SignedCheckpoint | None) -> str | None:
    """The latest checkpoint as a mail header carries it: the signed note, a text of several lines, as base64 on
    one line; a reader decodes it and checks it with the public key (README « Preuve »)."""
    if row is None:
        return None
    return base64.b64encode(row.note.encode("utf-8")).decode("ascii")
