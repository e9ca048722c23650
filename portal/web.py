"""What every page shares: who is signed in, the CSRF check, rendering with the mails' Jinja2 environment, and
French errors in place of tracebacks."""

import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pendulum
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from models.access import live_session, token_owner
from models.db import in_transaction, read_scope
from policy.parties import Party
from policy.transitions import ROLE_LABELS, Role
from rendering.environment import render_document
from settings.env import portal_url
from settings.parties import Parties, Person, load_parties

SESSION_COOKIE = "ent_session"
ANONYMOUS_CSRF_COOKIE = "ent_formulaire"
NEXT_COOKIE = "ent_suite"  # the page asked for before signing in


class SignInRequired(Exception):
    """No valid session or token: a page sends to the sign-in form, the API answers 401."""


class CsrfRefused(Exception):
    """A form posted without the token of the session (or of the anonymous form) that showed it."""


@dataclass(frozen=True)
class Visitor:
    person: Person | None
    csrf: str  # the session's token, or the anonymous form's
    via_token: bool = False  # a machine client with a personal access token: no cookie, so no CSRF to fear


def visitor(request: Request) -> Visitor:
    """Who makes this request, read once per request."""
    cached = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    found = _identify(request)
    request.state.visitor = found
    return found


def _identify(request: Request) -> Visitor:
    parties = load_parties()
    authorization = request.headers.get("authorization", "")
    # A token works on the API only: on the pages, where forms skip CSRF for it, it could mint new tokens.
    if request.url.path.startswith("/api/") and authorization.lower().startswith("bearer "):
        email = in_transaction(lambda session: token_owner(session, authorization[7:].strip()))
        person = parties.person(email) if email else None
        if person is None:
            raise SignInRequired
        return Visitor(person, "", via_token=True)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = in_transaction(lambda session: _session_of(session, cookie))
        if found is not None:
            email, csrf = found
            person = parties.person(email)
            if person is not None:  # removed from the parties' file since: signed out
                return Visitor(person, csrf)
    return Visitor(None, request.cookies.get(ANONYMOUS_CSRF_COOKIE) or "")


def _session_of(session: Any, cookie: str) -> tuple[str, str] | None:
    live = live_session(session, cookie)
    return (live.email, live.csrf) if live is not None else None


def signed_in(request: Request) -> Person:
    person = visitor(request).person
    if person is None:
        raise SignInRequired
    return person


def check_csrf(request: Request, form: FormData) -> None:
    who = visitor(request)
    if who.via_token:
        return
    sent = str(form.get("csrf") or "")
    if not who.csrf or not hmac.compare_digest(sent.encode(), who.csrf.encode()):
        raise CsrfRefused


def now() -> pendulum.DateTime:
    """The portal acts on the real register, now: it has no replay instant."""
    return pendulum.now("UTC")


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    who = visitor(request)
    if "values" in context:  # a form shown again: a field never filled is shown empty
        context = {**context, "values": defaultdict(str, context["values"])}
    csrf, fresh = who.csrf, None
    if who.person is None and not csrf:
        # The anonymous forms (sign-in) carry a double-submit token tied to this browser by a cookie.
        csrf = fresh = secrets.token_urlsafe(24)
    response = HTMLResponse(render_document(f"portal/{template}", {
        **context, "me": who.person, "csrf": csrf, "nav": navigation(who.person), "path": request.url.path,
        "role_labels": {role.value: label for role, label in ROLE_LABELS.items()},
        "academy_name": parties().academy.name, "is_academy": bool(who.person and who.person.party is Party.ACADEMY),
        "my_party": party_name(who.person) if who.person else "",
    }), status_code=status)
    if fresh:
        response.set_cookie(ANONYMOUS_CSRF_COOKIE, fresh, httponly=True, samesite="strict",
                            secure=served_over_https(request), path="/")
    return response


def served_over_https(request: Request) -> bool:
    """Over HTTPS here, or behind a TLS front whose public address (INCIDENTS_PORTAL_URL) is https."""
    return request.url.scheme == "https" or portal_url().startswith("https://")


def attachment_disposition(filename: str) -> str:
    """A download's file name: ASCII for old clients, the exact UTF-8 name (RFC 6266, RFC 5987) for the others."""
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename) or "fichier"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def document(text: str, filename: str | None = None, media_type: str = "text/html; charset=utf-8") -> Response:
    """A report as its own document (inline styles, no script), or as a download when it has a file name."""
    headers = {"x-incidents-document": "1"}
    if filename:
        headers["content-disposition"] = attachment_disposition(filename)
    return Response(text, media_type=media_type, headers=headers)


def party_name(person: Person) -> str:
    """Whom a person acts for, by name: the académie, or their commune."""
    if person.party is Party.ACADEMY:
        return parties().academy.name
    commune = parties().municipality(person.insee or "")
    return f"commune de {commune.name}" if commune else f"commune {person.insee}"


def parties() -> Parties:
    return load_parties()


def navigation(person: Person | None) -> list[tuple[str, str]]:
    if person is None:
        return []
    items = [("/incidents", "Incidents" if person.party is Party.MUNICIPALITY else "Tableau de bord")]
    if person.roles & {Role.REFERENT, Role.TRIAGER}:
        items.append(("/incidents/nouveau", "Déclarer un incident"))
    items.append(("/registre", "Registre des violations"))
    if person.party is Party.ACADEMY:
        items += [("/rapports", "Rapports et export"), ("/chaine", "Intégrité de la chronologie")]
    items.append(("/jetons", "Accès des applications"))
    return items


def read(work: Any) -> Any:
    """A read, in a snapshot of its own that holds no writer back."""
    with read_scope() as session:
        return work(session)
