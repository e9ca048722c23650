"""The portal's protections: forms refused without their CSRF token (nothing written), incident texts shown as text
on every page (never markup), the security headers on every response (pages, errors, static files, redirects,
the JSON API, report documents), and no incident content in the URLs the portal redirects to."""

import html
import re
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pendulum
import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

import portal.api
import portal.incidents
from flows.steps import propose_scopes
from models.access import AccessToken, PortalSession, SignInLink, create_token, hash_secret, open_session
from models.commands import Declare
from models.db import in_transaction, session_scope
from models.declaration import parse_declaration
from models.door import run
from models.incident import Incident
from portal import signin
from portal.app import create_app
from portal.throttle import Throttle
from settings.parties import Person, load_parties
from tests.conftest import AUDITOR, BASE_DECLARATION, REFERENT, TRIAGER

PORTAL = "http://portail.test"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
MARKER = "Marqueur-confidentiel-7Q"
TITLE = f"{MARKER} {SCRIPT} {IMG}"
DESCRIPTION = f"Description {MARKER} {IMG} {SCRIPT} avec \"guillemets\" et 'apostrophes'."
FORBIDDEN = "Formulaire refusé"


# --- fixtures and helpers ------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def portal_settings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, str]]:
    """Predictable links; the hand-over after a declaration or a report is only recorded (no background work: the
    tests take the incident in themselves), fresh sign-in throttles."""
    monkeypatch.setenv("INCIDENTS_PORTAL_URL", PORTAL)
    monkeypatch.delenv("INCIDENTS_OIDC_ISSUER", raising=False)
    handed: list[tuple[str, int, str]] = []
    for module in (portal.incidents, portal.api):
        monkeypatch.setattr(module, "hand_over_soon", lambda flow, incident_id, ref: handed.append(
            (flow, incident_id, ref)))
    monkeypatch.setattr(signin, "PER_ADDRESS", Throttle(limit=3, window_seconds=900))
    monkeypatch.setattr(signin, "PER_CLIENT", Throttle(limit=10, window_seconds=900))
    return handed


class Browser:
    """A browser signed in as one person (a session opened directly), which notes every redirect it is sent."""

    def __init__(self, email: str | None = None) -> None:
        self.redirects: list[str] = []
        cookies: dict[str, str] = {}
        self.csrf = ""
        if email is not None:
            opened = in_transaction(lambda session: open_session(session, email, "link"))
            cookies, self.csrf = {"ent_session": opened.token}, opened.csrf
            self.token = opened.token
        self.client = TestClient(create_app(), base_url=PORTAL, cookies=cookies, follow_redirects=False)
        self.client.event_hooks = {"request": [], "response": [self._note]}

    def _note(self, response: httpx.Response) -> None:
        if "location" in response.headers:
            self.redirects.append(response.headers["location"])

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.client.get(url, **options)

    def post(self, url: str, data: dict[str, Any] | None = None, **options: Any) -> httpx.Response:
        return self.client.post(url, data=data, **options)


def person(email: str) -> Person:
    found = load_parties().person(email)
    assert found is not None
    return found


def declare_through_the_door(title: str = TITLE, **changes: Any) -> str:
    now = pendulum.now("UTC")
    document = {**BASE_DECLARATION, "title": title, "description": DESCRIPTION, "personal_data": "yes",
                "aware_at": now.subtract(hours=2).isoformat(), "data_subjects": {"pupils": 12}, **changes}
    incident = run(Declare(parse_declaration(document, load_parties(), now)), person(REFERENT), now)
    return str(incident.ref)


def declaration_form(csrf: str, title: str = TITLE, **changes: str) -> dict[str, Any]:
    aware = pendulum.now("Europe/Paris").subtract(hours=1).format("YYYY-MM-DDTHH:mm")
    return {"csrf": csrf, "title": title, "description": DESCRIPTION, "municipality": "54999", "aware_at": aware,
            "categories": ["vendor"], "personal_data": "yes", "pupils": "30", "schools": ["0549001A"], **changes}


def take_in(ref: str) -> None:
    """What the engine does after a declaration (here, without Prefect): the scope proposed, the incident open."""
    with session_scope() as session:
        incident = session.exec(select(Incident).where(Incident.ref == ref)).one()
    assert propose_scopes([incident.id or 0], pendulum.now("UTC")) == [ref]


def incident(ref: str) -> Incident:
    with session_scope() as session:
        return session.exec(select(Incident).where(Incident.ref == ref)).one()


def incident_count() -> int:
    with session_scope() as session:
        return len(session.exec(select(Incident)).all())


def refused_form(response: httpx.Response) -> None:
    assert response.status_code == 403, response.status_code
    assert FORBIDDEN in html.unescape(response.text)


# --- CSRF ----------------------------------------------------------------------------------------------------------

def test_a_declaration_without_its_csrf_token_is_refused_and_not_recorded(portal_settings: list[Any]) -> None:
    referent, auditor = Browser(REFERENT), Browser(AUDITOR)
    assert referent.get("/incidents/nouveau").status_code == 200
    without = declaration_form("")
    del without["csrf"]
    refused_form(referent.post("/incidents/nouveau", without))
    refused_form(referent.post("/incidents/nouveau", declaration_form("")))
    refused_form(referent.post("/incidents/nouveau", declaration_form("jeton-invente")))
    refused_form(referent.post("/incidents/nouveau", declaration_form(referent.csrf[:-1])))
    refused_form(referent.post("/incidents/nouveau", declaration_form(auditor.csrf)))  # another session's token
    assert incident_count() == 0 and portal_settings == []

    accepted = referent.post("/incidents/nouveau", declaration_form(referent.csrf))  # the control: it does work
    assert accepted.status_code == 303 and incident_count() == 1


def test_an_acknowledgement_without_its_csrf_token_is_refused(portal_settings: list[Any]) -> None:
    ref = declare_through_the_door("Messagerie inaccessible")
    take_in(ref)
    triager = Browser(TRIAGER)
    page = triager.get(f"/incidents/{ref}")
    assert page.status_code == 200 and f'action="/incidents/{ref}/accuse-reception"' in page.text
    for sent in ({}, {"csrf": ""}, {"csrf": "faux"}, {"csrf": Browser(AUDITOR).csrf}):
        refused_form(triager.post(f"/incidents/{ref}/accuse-reception", sent))
        assert incident(ref).acknowledged_at is None
    done = triager.post(f"/incidents/{ref}/accuse-reception", {"csrf": triager.csrf})
    assert done.status_code == 303 and incident(ref).acknowledged_by == TRIAGER


def test_other_forms_without_their_csrf_token_change_nothing() -> None:
    referent = Browser(REFERENT)
    refused_form(referent.post("/deconnexion", {}))
    refused_form(referent.post("/jetons", {"label": "Application de tickets"}))
    refused_form(referent.post("/jetons", {"label": "Application de tickets", "csrf": "faux"}))
    with session_scope() as session:
        assert session.exec(select(AccessToken)).all() == []
        still = session.exec(select(PortalSession).where(
            PortalSession.token_hash == hash_secret(referent.token))).one()
        assert still.ended_at is None
    assert referent.get("/incidents").status_code == 200  # still signed in


def test_the_anonymous_sign_in_form_needs_the_token_of_this_browser() -> None:
    first = Browser()
    form = first.get("/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token
    refused_form(first.post("/connexion", {"email": TRIAGER}))
    refused_form(first.post("/connexion", {"email": TRIAGER, "csrf": "faux"}))
    refused_form(Browser().post("/connexion", {"email": TRIAGER, "csrf": token.group(1)}))  # without its cookie
    refused_form(first.post("/connexion/lien", {"token": "quelconque"}))
    with session_scope() as session:
        assert session.exec(select(SignInLink)).all() == []


# --- incident texts are text -------------------------------------------------------------------------------------

ESCAPED = (html.escape(SCRIPT, quote=False), html.escape(IMG, quote=False))


def assert_no_markup(response: httpx.Response, where: str) -> None:
    body = response.text
    assert response.status_code == 200, (where, response.status_code)
    lowered = body.lower()
    assert "<script>alert" not in lowered and "<img src=x" not in lowered, where


def test_markup_in_an_incident_is_shown_as_text_everywhere() -> None:
    referent = Browser(REFERENT)
    declared = referent.post("/incidents/nouveau", declaration_form(referent.csrf))
    assert declared.status_code == 303
    through_form = declared.headers["location"].split("/")[2]
    through_door = declare_through_the_door()
    for ref in (through_form, through_door):
        take_in(ref)
    assert incident(through_form).title == TITLE  # kept as typed: escaping is the pages' job

    shown_everywhere = {"/incidents": True, "/registre": False}
    for ref in (through_form, through_door):
        shown_everywhere |= {f"/incidents/{ref}": True, f"/incidents/{ref}/enregistre": False,
                             f"/incidents/{ref}/chronologie": True, f"/incidents/{ref}/audit": True,
                             f"/incidents/{ref}/violation": True}
    readers = {"académie": Browser(TRIAGER), "auditrice": Browser(AUDITOR), "commune": referent}
    for who, reader in readers.items():
        for url, shows_title in shown_everywhere.items():
            page = reader.get(url)
            assert_no_markup(page, f"{who} {url}")
            if shows_title:
                assert MARKER in page.text, f"{who} {url}"
                for escaped in ESCAPED:
                    assert escaped in page.text, (who, url, escaped)


def test_markup_typed_in_a_refused_form_is_shown_back_as_text() -> None:
    referent = Browser(REFERENT)
    hostile = '"><script>alert(1)</script><input value="'
    refused = referent.post("/incidents/nouveau", declaration_form(referent.csrf, title=hostile, description=""))
    assert refused.status_code == 400 and incident_count() == 0
    assert "<script>alert" not in refused.text.lower()
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;input value=&#34;"' in refused.text


def test_the_api_answers_incident_texts_as_json_not_html() -> None:
    declare_through_the_door()
    token = in_transaction(lambda session: create_token(session, person(AUDITOR), "outil"))
    client = TestClient(create_app(), base_url=PORTAL)
    answer = client.get("/api/v1/incidents", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert [row["title"] for row in answer.json()] == [TITLE]


# --- security headers ----------------------------------------------------------------------------------------------

def directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name.lower()] = values
    return found


def assert_protected(response: httpx.Response, what: str) -> None:
    policy = response.headers.get("content-security-policy")
    assert policy, f"no Content-Security-Policy on {what} ({response.status_code})"
    assert len(response.headers.get_list("content-security-policy")) == 1, what
    parsed = directives(policy)
    scripts = parsed.get("script-src", parsed.get("default-src"))
    assert scripts is not None, what
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts, what
    assert parsed.get("frame-ancestors") == ["'none'"], what
    assert parsed.get("object-src") == ["'none'"] and parsed.get("base-uri") == ["'none'"], what
    assert response.headers.get("x-frame-options") == "DENY", what
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "no-referrer", what


def test_every_response_carries_the_security_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTS_MAX_ATTACHMENT_MEGABYTES", "1")
    ref = declare_through_the_door()
    take_in(ref)
    anonymous, referent = Browser(), Browser(REFERENT)
    token = in_transaction(lambda session: create_token(session, person(REFERENT), "outil"))
    bearer = {"authorization": f"Bearer {token}"}
    answers: dict[str, tuple[httpx.Response, int]] = {
        "sign-in page": (anonymous.get("/connexion"), 200),
        "redirect to sign in": (anonymous.get("/"), 303),
        "page asking for a session": (anonymous.get("/incidents"), 303),
        "mailed link page": (anonymous.get("/connexion/lien/abc"), 200),
        "anonymous form refused": (anonymous.post("/connexion/lien", {"csrf": "x", "token": "abc"}), 403),
        "dashboard": (referent.get("/incidents"), 200),
        "incident page": (referent.get(f"/incidents/{ref}"), 200),
        "redirect home": (referent.get("/"), 303),
        "input refused": (referent.post(f"/incidents/{ref}/classement", {"csrf": referent.csrf}), 400),
        "timeline document": (referent.get(f"/incidents/{ref}/chronologie"), 200),
        "audit document": (referent.get(f"/incidents/{ref}/audit"), 200),
        "audit JSON download": (referent.get(f"/incidents/{ref}/audit?format=json"), 200),
        "register CSV": (referent.get("/registre?format=csv"), 200),
        "unknown page": (referent.get("/nulle-part"), 404),
        "unknown incident": (referent.get("/incidents/INC-1999-9999"), 404),
        "unknown page, anonymous": (anonymous.get("/nulle-part"), 404),
        "form refused (CSRF)": (referent.post("/incidents/nouveau", {"title": "x"}), 403),
        "action refused (role)": (referent.get("/rapports"), 403),
        "method not allowed": (referent.client.put("/incidents"), 405),
        "too large": (anonymous.client.post("/connexion", content=b"e" * (2 * 1024 * 1024),
                                            headers={"content-type": "application/x-www-form-urlencoded"}), 413),
        "static stylesheet": (anonymous.get("/static/portal.css"), 200),
        "static script": (anonymous.get("/static/portal.js"), 200),
        "static file missing": (anonymous.get("/static/absent.css"), 404),
        "API without token": (anonymous.get("/api/v1/incidents"), 401),
        "API with a cookie only": (referent.get("/api/v1/incidents"), 401),
        "API JSON": (anonymous.get("/api/v1/incidents", headers=bearer), 200),
        "API not found": (anonymous.get("/api/v1/incidents/INC-1999-9999", headers=bearer), 404),
        "API refused": (anonymous.client.post(f"/api/v1/incidents/{ref}/acknowledge", headers=bearer), 403),
        "API malformed": (anonymous.client.post("/api/v1/incidents", content=b"{", headers={
            **bearer, "content-type": "application/json"}), 422),
        "API page": (anonymous.get("/api"), 200),
        "OpenAPI schema": (anonymous.get("/api/openapi.json"), 200),
        "sign-out redirect": (referent.post("/deconnexion", {"csrf": referent.csrf}), 303),
    }
    for what, (response, status) in answers.items():
        assert response.status_code == status, (what, response.status_code, response.text[:200])
        assert_protected(response, what)
    assert "cache-control" not in answers["static stylesheet"][0].headers
    assert answers["dashboard"][0].headers["cache-control"] == "no-store"
    # A report document has no script at all: default-src 'none', no script-src.
    document = directives(answers["audit document"][0].headers["content-security-policy"])
    assert document["default-src"] == ["'none'"] and "script-src" not in document
    assert "x-incidents-document" not in answers["audit document"][0].headers


def test_an_unexpected_error_still_carries_the_security_headers() -> None:
    app = create_app()

    def failing() -> None:
        raise RuntimeError("panne imprévue")

    app.add_api_route("/panne-de-test", failing)
    answer = TestClient(app, base_url=PORTAL, raise_server_exceptions=False).get("/panne-de-test")
    assert answer.status_code == 500
    assert_protected(answer, "unexpected error")
    assert "Erreur inattendue" in answer.text and "panne imprévue" not in answer.text


# --- URLs ----------------------------------------------------------------------------------------------------------

def test_no_incident_content_in_the_urls_the_portal_redirects_to() -> None:
    referent, triager = Browser(REFERENT), Browser(TRIAGER)
    declared = referent.post("/incidents/nouveau", declaration_form(referent.csrf))
    assert declared.status_code == 303
    ref = declared.headers["location"].split("/")[2]
    take_in(ref)
    steps = [
        (triager, f"/incidents/{ref}/accuse-reception", {"csrf": triager.csrf}),
        (triager, f"/incidents/{ref}/portee", {"csrf": triager.csrf, "scope": "shared", "reason": TITLE}),
        (triager, f"/incidents/{ref}/suivi", {"csrf": triager.csrf, "done": TITLE, "planned": DESCRIPTION,
                                              "impact": MARKER}),
        (referent, f"/incidents/{ref}/pieces-jointes", {"csrf": referent.csrf, "note": TITLE}),
        (triager, "/jetons", {"csrf": triager.csrf, "label": TITLE}),
        (triager, "/jetons/1/revoquer", {"csrf": triager.csrf}),
        (referent, "/deconnexion", {"csrf": referent.csrf}),
    ]
    for browser, url, data in steps:
        files = {"file": ("journal.txt", f"{MARKER} {TITLE}".encode(), "text/plain")} if "pieces" in url else None
        answer = browser.client.post(url, data=data, files=files)
        assert answer.status_code in (200, 303), (url, answer.status_code, answer.text[:300])
    with session_scope() as session:
        assert session.exec(select(Incident.acknowledged_by)).one() == TRIAGER
        assert len(session.exec(select(AccessToken).where(col(AccessToken.revoked_at).is_not(None))).all()) == 1
    redirects = referent.redirects + triager.redirects
    assert len(redirects) >= 6, redirects
    for location in redirects:
        shown = unquote_plus(location)
        assert location.startswith("/") and not location.startswith("//"), location
        for secret in (MARKER, "alert", "script", "<", "guillemets", TITLE[:20]):
            assert secret not in shown, (location, secret)
