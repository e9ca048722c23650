"""Files added to an incident: kept under var/attachments by their SHA-256, outside anything served statically;
the door records each one (RG-DOOR-21) with its hash on the timeline."""

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

import pendulum
from sqlalchemy import Column
from sqlmodel import Field, Session, SQLModel, col, select

from models.commands import Attach
from models.incident import Incident
from models.journal import record
from models.types import UTCDateTime
from policy.transitions import EntryKind
from settings.env import var_dir
from settings.parties import Parties, Person


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    added_by: str = Field(max_length=320)
    added_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    note: str | None = Field(default=None, max_length=500)


def attachments_dir() -> Path:
    return var_dir() / "attachments"


def stored_path(sha256: str) -> Path:
    return attachments_dir() / sha256[:2] / sha256


def stage_file(content: bytes) -> tuple[str, Path]:
    """Write the bytes aside (readable by the service's account only); their SHA-256 and where they wait."""
    sha256 = hashlib.sha256(content).hexdigest()
    folder = attachments_dir() / "arrivee"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, staged = tempfile.mkstemp(dir=folder, prefix=f"{sha256[:8]}-")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return sha256, Path(staged)


def keep_staged(staged: Path, sha256: str) -> None:
    """The door recorded it: into its place by hash (the same bytes may be there already: same content)."""
    target = stored_path(sha256)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.replace(staged, target)


def attach(session: Session, command: Attach, incident: Incident, actor: Person, _parties: Parties,
           now: pendulum.DateTime) -> Attachment:
    """Record a stored file as the incident's (RG-DOOR-21), its hash on the timeline."""
    assert incident.id is not None
    attachment = Attachment(incident_id=incident.id, filename=command.filename, content_type=command.content_type,
                            size=command.size, sha256=command.sha256, added_by=actor.email,
                            added_at=pendulum.now("UTC"), note=command.note)
    session.add(attachment)
    session.flush()
    record(session, incident, now=now, actor=actor.email, party=actor.party.value, kind=EntryKind.ATTACHMENT_ADDED,
           payload={"attachment_id": attachment.id, "filename": command.filename, "content_type": command.content_type,
                    "size": command.size, "sha256": command.sha256, "note": command.note})
    return attachment


def attachments_of(session: Session, incident: Incident) -> list[Attachment]:
    return list(session.exec(select(Attachment).where(Attachment.incident_id == incident.id)
                             .order_by(col(Attachment.id))).all())


def unfaithful_files(session: Session, incident_id: int | None = None) -> list[str]:
    """The files whose bytes under var/ are gone or no longer hash to what the store (and, through the attestation
    of the row, the timeline) says of them: a file swapped on disk."""
    # Only the columns needed, as the driver gives them: a row edited beside the door (an added_at that is no date)
    # is the records' check's to name, not a reason for this one to stop.
    query = select(col(Attachment.sha256), col(Attachment.filename), Incident.ref).join(
        Incident, col(Incident.id) == col(Attachment.incident_id))
    if incident_id is not None:
        query = query.where(Attachment.incident_id == incident_id)
    found = []
    for sha256, filename, ref in session.exec(query.order_by(col(Attachment.id))):
        path = stored_path(sha256) if _is_sha256(sha256) else None
        if path is None or not path.is_file():
            found.append(f"{ref} : le fichier de la pièce jointe « {filename} » est absent")
            continue
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            found.append(f"{ref} : le fichier de la pièce jointe « {filename} » ne correspond plus à "
                         "son empreinte")
    return found


def _is_sha256(value: object) -> bool:
    """Whether a stored value names a file under var/attachments: 64 lowercase hexadecimal digits, nothing else
    (no path of another file, no NUL character)."""
    return isinstance(value, str) and len(value) == 64 and all(digit in "0123456789abcdef" for digit in value)
