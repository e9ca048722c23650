"""Who is signed in: one-time sign-in links, portal sessions and personal access tokens.

Only hashes of the secrets are stored: a copy of the store lets nobody sign in. These rows are credentials, not
records of an incident: sessions and tokens are written here, while the sign-in mail leaves through the door
(`request_sign_in`, RG-DOOR-20) and the outbox like every other message.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pendulum
from sqlalchemy import Column, update
from sqlmodel import Field, Session, SQLModel, col, select

from models.commands import RequestSignIn
from models.incident import Incident
from models.messaging import enqueue_report
from models.types import UTCDateTime
from settings.parties import Contact, Parties, Person

SIGN_IN_LINK_MINUTES = 15
SESSION_IDLE_MINUTES = 30
SESSION_MAX_HOURS = 12


class SignInLink(SQLModel, table=True):
    __tablename__ = "sign_in_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    email: str = Field(max_length=320, index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class PortalSession(SQLModel, table=True):
    __tablename__ = "portal_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    email: str = Field(max_length=320, index=True)
    method: str = Field(max_length=16)  # "link" or "oidc"
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class AccessToken(SQLModel, table=True):
    """A personal access token for a machine client, bound to one person's roles and party."""

    __tablename__ = "access_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    email: str = Field(max_length=320, index=True)
    label: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _wall() -> pendulum.DateTime:
    return pendulum.now("UTC")


# --- sign-in links (the door's handler, then their use) ---------------------------------------------------------

def request_sign_in(session: Session, command: RequestSignIn, _incident: Incident | None, actor: Person,
                    parties: Parties, _now: pendulum.DateTime) -> None:
    """Store a link's hash and queue its mail, already rendered, to the person who asked (RG-DOOR-20)."""
    from rendering.environment import render_message

    created = _wall()
    link = SignInLink(token_hash=hash_secret(command.token), email=actor.email, created_at=created,
                      expires_at=created + timedelta(minutes=SIGN_IN_LINK_MINUTES))
    session.add(link)
    session.flush()
    mail = render_message("sign_in_link", {"name": actor.name, "link": command.link, "academy": parties.academy.name,
                                           "minutes": SIGN_IN_LINK_MINUTES})
    contact = Contact(name=actor.name, email=actor.email)
    enqueue_report(session, key=f"sign-in/{link.id}", recipients=[contact], party=actor.party,
                   subject=mail.subject, text=mail.text, html=mail.html, template="sign_in_link")


def use_sign_in_link(session: Session, token: str) -> str | None:
    """The e-mail a valid, unused, unexpired link was sent to, the link spent at once; None otherwise."""
    now = _wall()
    link = session.exec(select(SignInLink).where(SignInLink.token_hash == hash_secret(token))
                        .with_for_update()).one_or_none()
    if link is None or link.used_at is not None or pendulum.instance(link.expires_at) < now:
        return None
    spent = session.execute(update(SignInLink).where(col(SignInLink.id) == link.id, col(SignInLink.used_at).is_(None))
                            .values(used_at=now))
    return link.email if spent.rowcount == 1 else None  # type: ignore[attr-defined]


def link_address(session: Session, token: str) -> str | None:
    """The address a live link was sent to (read only: the link is not spent)."""
    link = session.exec(select(SignInLink).where(SignInLink.token_hash == hash_secret(token))).one_or_none()
    if link is None or link.used_at is not None or pendulum.instance(link.expires_at) < _wall():
        return None
    return link.email


def masked_address(email: str | None) -> str:
    """An address half hidden (r…t@villers-les-exemple.example.org), enough to recognise one's own."""
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[0]}…{local[-1]}@{domain}" if len(local) > 2 else f"{local[0]}…@{domain}"


# --- sessions ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenedSession:
    token: str  # the cookie's value, never stored
    csrf: str


def open_session(session: Session, email: str, method: str) -> OpenedSession:
    """A new session at each sign-in: a session fixed before sign-in is never reused."""
    token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), _wall()
    session.add(PortalSession(token_hash=hash_secret(token), email=email, method=method, csrf=csrf, created_at=now,
                              seen_at=now))
    return OpenedSession(token, csrf)


def live_session(session: Session, token: str) -> PortalSession | None:
    """The session a cookie names, if it has not ended, idled out or outlived its maximum; its idle clock renewed."""
    now = _wall()
    found = session.exec(select(PortalSession).where(PortalSession.token_hash == hash_secret(token))).one_or_none()
    if found is None or found.ended_at is not None:
        return None
    if pendulum.instance(found.seen_at) + timedelta(minutes=SESSION_IDLE_MINUTES) < now \
            or pendulum.instance(found.created_at) + timedelta(hours=SESSION_MAX_HOURS) < now:
        found.ended_at = now
        session.add(found)
        return None
    if (now - pendulum.instance(found.seen_at)).total_seconds() > 30:  # not one write per request
        found.seen_at = now
        session.add(found)
    return found


def end_session(session: Session, token: str) -> None:
    session.execute(update(PortalSession).where(col(PortalSession.token_hash) == hash_secret(token),
                                                col(PortalSession.ended_at).is_(None)).values(ended_at=_wall()))


# --- personal access tokens ----------------------------------------------------------------------------------------

TOKEN_PREFIX = "ent_"


def create_token(session: Session, person: Person, label: str) -> str:
    """A new token, shown once: only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(AccessToken(token_hash=hash_secret(token), email=person.email, label=label, created_at=_wall()))
    return token


def tokens_of(session: Session, person: Person) -> list[AccessToken]:
    return list(session.exec(select(AccessToken).where(AccessToken.email == person.email)
                             .order_by(col(AccessToken.id))).all())


def revoke_token(session: Session, person: Person, token_id: int) -> bool:
    revoked = session.execute(update(AccessToken).where(col(AccessToken.id) == token_id,
                                                        col(AccessToken.email) == person.email,
                                                        col(AccessToken.revoked_at).is_(None))
                              .values(revoked_at=_wall()))
    return bool(revoked.rowcount)  # type: ignore[attr-defined]


def token_owner(session: Session, token: str) -> str | None:
    """The e-mail a live token belongs to; its last use stamped."""
    found = session.exec(select(AccessToken).where(AccessToken.token_hash == hash_secret(token))).one_or_none()
    if found is None or found.revoked_at is not None:
        return None
    now = _wall()
    if found.last_used_at is None or (now - pendulum.instance(found.last_used_at)).total_seconds() > 60:
        found.last_used_at = now
        session.add(found)
    return found.email
