"""Signing in to the portal: the one-time link mailed through the outbox (used once, expiring, unguessable, kept
only as a hash), the same answer for an unknown address, the throttles, sessions (idle expiry, sign-out, a new
session at each sign-in), and OpenID Connect against a provider served on loopback (tests/oidc_provider.py)."""

import html
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pendulum
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col, select

from models.access import SESSION_IDLE_MINUTES, SESSION_MAX_HOURS, PortalSession, SignInLink, hash_secret, open_session
from models.db import in_transaction, session_scope
from models.outbox import MessageStatus, OutboxMessage
from portal import signin
from portal.app import create_app
from portal.throttle import Throttle
from settings.parties import load_parties
from tests.conftest import AUDITOR, REFERENT, TRIAGER, MailHandler, Received, free_port
from tests.oidc_provider import OidcProvider

PORTAL = "http://portail.test"
KNOWN = TRIAGER
UNKNOWN = "personne-inconnue@ac-nancy-metz.example.org"
SESSION = "ent_session"
OIDC = "ent_oidc"
LINK_REFUSED = "Ce lien de connexion n'est plus valable"
THROTTLED = "Trop de demandes de connexion : réessayez dans quelques minutes."
CSRF_FIELD = re.compile(r'(name="csrf" value=")([^"]*)(")')
T = TypeVar("T")


# --- fixtures and helpers ------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def portal_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Predictable links, no OIDC unless a test sets it, fresh throttles and pending OIDC sign-ins; at the end, the
    portal's background deliveries finished (they must not outlive this test's store)."""
    monkeypatch.setenv("INCIDENTS_PORTAL_URL", PORTAL)
    for name in ("INCIDENTS_OIDC_ISSUER", "INCIDENTS_OIDC_CLIENT_ID", "INCIDENTS_OIDC_CLIENT_SECRET",
                 "INCIDENTS_OIDC_SCOPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(signin, "PER_ADDRESS", Throttle(limit=3, window_seconds=900))
    monkeypatch.setattr(signin, "PER_CLIENT", Throttle(limit=20, window_seconds=900))
    monkeypatch.setattr(signin, "_pending", {})
    yield
    background_work_done()


def background_work_done(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [t for t in threading.enumerate() if t.name.startswith("portal-") and t.is_alive()]
        if not running:
            return
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))
    raise AssertionError("the portal's background work did not finish")


def browser(base_url: str = PORTAL, **options: Any) -> TestClient:
    """A browser of its own (its own cookies)."""
    return TestClient(create_app(), base_url=base_url, **options)


@pytest.fixture
def client() -> TestClient:
    return browser()


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 15) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def csrf_of(page: httpx.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, page.text
    return found.group(2)


def masked(page: httpx.Response, *secrets: str) -> str:
    """The page with its CSRF values (and the given texts) masked, for comparing two answers."""
    text = CSRF_FIELD.sub(r"\1CSRF\3", page.text)
    for secret in secrets:
        text = text.replace(html.escape(secret), "MASQUE").replace(secret, "MASQUE")
    return text


def ask_for_link(client: TestClient, email: str) -> httpx.Response:
    form = client.get("/connexion")
    assert form.status_code == 200
    return client.post("/connexion", data={"csrf": csrf_of(form), "email": email}, follow_redirects=False)


def mailed_token(smtp: MailHandler, email: str, nth: int = 1, portal: str = PORTAL) -> str:
    def arrived() -> list[Received] | None:
        mails = smtp.to(email)
        return mails if len(mails) >= nth else None

    mails = wait_for(arrived, f"sign-in mail #{nth} to {email}")
    assert "lien de connexion" in str(mails[nth - 1].message["Subject"])
    found = re.search(rf"{re.escape(portal)}/connexion/lien/([A-Za-z0-9_-]+)", mails[nth - 1].text)
    assert found, mails[nth - 1].text
    return found.group(1)


def use_link(client: TestClient, token: str) -> httpx.Response:
    confirm = client.get(f"/connexion/lien/{token}")
    assert confirm.status_code == 200 and "Confirmer la connexion" in confirm.text
    if 'name="token"' not in confirm.text:  # a dead link offers no button; posting it anyway is refused too
        assert "Ce lien n'est plus valable" in html.unescape(confirm.text)
        confirm = client.get("/connexion")
    return client.post("/connexion/lien", data={"csrf": csrf_of(confirm), "token": token}, follow_redirects=False)


def cookie_set(response: httpx.Response, name: str) -> dict[str, Any] | None:
    """The Set-Cookie of `name`, as {"value": ..., attribute (lower case): value or True}."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            first, *attributes = (part.strip() for part in header.split(";"))
            cookie: dict[str, Any] = {"value": first.split("=", 1)[1].strip('"')}
            for attribute in attributes:
                key, _, value = attribute.partition("=")
                cookie[key.lower()] = value or True
            return cookie
    return None


def sessions() -> list[PortalSession]:
    with session_scope() as session:
        return list(session.exec(select(PortalSession).order_by(col(PortalSession.id))).all())


def shown_name(page: httpx.Response) -> str:
    found = re.search(r'id="moi">([^<]*)<', page.text)
    assert found, "no one is shown signed in"
    return html.unescape(found.group(1))


def name_of(email: str) -> str:
    person = load_parties().person(email)
    assert person is not None
    return person.name


def signed_in_as(client: TestClient, email: str) -> None:
    page = client.get("/incidents", follow_redirects=False)
    assert page.status_code == 200, page.headers.get("location")
    assert shown_name(page).startswith(name_of(email) + " — ")


def signed_out(client: TestClient) -> bool:
    page = client.get("/incidents", follow_redirects=False)
    return page.status_code == 303 and page.headers["location"] == "/connexion"


def link_refused(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert LINK_REFUSED in html.unescape(response.text)
    assert cookie_set(response, SESSION) is None


def session_for(client_cookie: dict[str, str]) -> TestClient:
    return browser(cookies=client_cookie)


# --- the mailed link -----------------------------------------------------------------------------------------------

def test_the_mailed_link_signs_in_once(client: TestClient, smtp: MailHandler) -> None:
    sent = ask_for_link(client, KNOWN)
    assert sent.status_code == 200 and "Consultez votre messagerie" in sent.text
    token = mailed_token(smtp, KNOWN)

    # Opening the link only shows a button (a mail scanner that follows it spends nothing).
    assert client.get(f"/connexion/lien/{token}").status_code == 200
    assert sessions() == []
    signed = use_link(client, token)
    assert signed.status_code == 303 and signed.headers["location"] == "/incidents"
    cookie = cookie_set(signed, SESSION)
    assert cookie is not None
    assert cookie.get("httponly") is True
    assert str(cookie.get("samesite")).lower() == "lax"
    assert cookie.get("path") == "/"
    assert "secure" not in cookie  # over http: a Secure cookie would never come back
    assert "max-age" not in cookie and "expires" not in cookie  # gone when the browser closes
    signed_in_as(client, KNOWN)

    [opened] = sessions()
    assert (opened.email, opened.method, opened.ended_at) == (KNOWN, "link", None)
    assert opened.token_hash == hash_secret(cookie["value"]) and cookie["value"] not in opened.token_hash

    # Used: refused, in this browser and in any other.
    link_refused(use_link(browser(), token))
    link_refused(use_link(client, token))
    assert len(sessions()) == 1


def test_the_session_cookie_is_secure_when_the_portal_url_is_https(smtp: MailHandler,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Served over https (behind a TLS-terminating proxy, the cookies are Secure as well: see the anonymous form's
    cookie below; a client speaking plain http to the portal then gets none back, as it should)."""
    monkeypatch.setenv("INCIDENTS_PORTAL_URL", "https://portail.test")
    for nth, base_url in enumerate(("https://portail.test",), start=1):
        one = browser(base_url)
        ask_for_link(one, KNOWN)
        token = mailed_token(smtp, KNOWN, nth, portal="https://portail.test")
        cookie = cookie_set(use_link(one, token), SESSION)
        assert cookie is not None and cookie.get("secure") is True and cookie.get("httponly") is True, base_url
        assert str(cookie.get("samesite")).lower() == "lax"
        signed_in_as(browser("https://portail.test", cookies={SESSION: cookie["value"]}), KNOWN)


def test_behind_a_tls_proxy_the_anonymous_form_cookie_is_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTS_PORTAL_URL", "https://portail.test")
    cookie = cookie_set(browser().get("/connexion"), "ent_formulaire")
    assert cookie is not None and cookie.get("secure") is True


def test_an_expired_link_is_refused(client: TestClient, smtp: MailHandler) -> None:
    ask_for_link(client, KNOWN)
    token = mailed_token(smtp, KNOWN)
    past = pendulum.now("UTC").subtract(seconds=1)
    in_transaction(lambda session: session.execute(update(SignInLink).values(expires_at=past)))
    link_refused(use_link(client, token))
    assert sessions() == [] and signed_out(client)


def test_an_altered_link_is_refused_and_does_not_spend_the_real_one(client: TestClient, smtp: MailHandler) -> None:
    ask_for_link(client, KNOWN)
    token = mailed_token(smtp, KNOWN)
    for position in (0, len(token) // 2, len(token) - 1):
        changed = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1:]
        link_refused(use_link(client, changed))
    link_refused(use_link(client, token[:-1]))  # one character short
    link_refused(use_link(client, token + "x"))  # one too many
    assert sessions() == []
    assert use_link(client, token).status_code == 303  # the genuine link still works, once
    signed_in_as(client, KNOWN)


def test_only_the_hash_of_the_link_is_kept(client: TestClient, smtp: MailHandler) -> None:
    ask_for_link(client, KNOWN)
    token = mailed_token(smtp, KNOWN)
    with session_scope() as session:
        [link] = session.exec(select(SignInLink)).all()
    assert link.token_hash == hash_secret(token)
    assert token not in repr(link.model_dump())
    assert link.used_at is None and link.email == KNOWN

    def sent() -> OutboxMessage | None:
        with session_scope() as session:
            message = session.exec(select(OutboxMessage).where(OutboxMessage.template == "sign_in_link")).one()
            return message if message.status == MessageStatus.SENT else None

    message = wait_for(sent, "the sign-in mail recorded as delivered")
    assert message.recipient_email == KNOWN
    assert token not in (message.body_text or "") and token not in (message.body_html or "")
    assert token not in repr(message.model_dump())
    assert use_link(client, token).status_code == 303  # the mailed copy is the only one, and it works


def test_an_unknown_address_gets_the_same_answer_and_no_mail(smtp: MailHandler) -> None:
    known = ask_for_link(browser(), KNOWN)
    unknown = ask_for_link(browser(), UNKNOWN)
    assert known.status_code == unknown.status_code == 200
    assert masked(known) == masked(unknown)
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
    assert cookie_set(known, "ent_formulaire") is cookie_set(unknown, "ent_formulaire") is None

    mailed_token(smtp, KNOWN)
    background_work_done()
    assert [mail.recipients for mail in smtp.received] == [[KNOWN]]
    with session_scope() as session:
        assert [link.email for link in session.exec(select(SignInLink)).all()] == [KNOWN]
        assert [m.recipient_email for m in session.exec(select(OutboxMessage)).all()] == [KNOWN]


def test_a_bad_address_is_refused_in_french(client: TestClient) -> None:
    for email in ("", "pas-une-adresse", "x" * 400 + "@example.org"):
        refused = ask_for_link(client, email)
        assert refused.status_code == 400
        assert "Adresse électronique" in html.unescape(refused.text)
    assert sessions() == []


# --- throttles -----------------------------------------------------------------------------------------------------

def test_beyond_three_links_an_address_gets_the_same_answer_and_no_more_mail(smtp: MailHandler) -> None:
    """Nobody can lock a person out by asking for their links, nor flood their mailbox; nothing tells either."""
    answers: dict[str, list[httpx.Response]] = {}
    for address, email in (("192.0.2.1", KNOWN), ("192.0.2.2", UNKNOWN)):
        one = browser(client=(address, 40000))
        answers[email] = [ask_for_link(one, email) for _ in range(4)]
    for email, replies in answers.items():
        assert [reply.status_code for reply in replies] == [200, 200, 200, 200], email
    # Nothing tells a known address from an unknown one, before the limit or beyond it.
    assert masked(answers[KNOWN][3], KNOWN) == masked(answers[UNKNOWN][3], UNKNOWN)
    assert masked(answers[KNOWN][0]) == masked(answers[UNKNOWN][0])
    assert masked(answers[KNOWN][3]) == masked(answers[KNOWN][0])

    # Per address, whichever browser asks, whatever the case.
    other = browser(client=("192.0.2.3", 40000))
    assert ask_for_link(other, KNOWN.upper()).status_code == 200
    assert ask_for_link(other, REFERENT).status_code == 200

    mailed_token(smtp, REFERENT)
    mailed_token(smtp, KNOWN, nth=3)
    background_work_done()
    assert len(smtp.to(KNOWN)) == 3  # the requests beyond the limit sent nothing
    assert smtp.to(UNKNOWN) == []


def test_one_client_is_throttled_whatever_the_addresses() -> None:
    scanner = browser(client=("198.51.100.7", 50000))
    replies = [ask_for_link(scanner, f"essai-{n}@ac-nancy-metz.example.org") for n in range(21)]
    assert [reply.status_code for reply in replies] == [200] * 20 + [429]
    assert THROTTLED in html.unescape(replies[20].text)
    assert ask_for_link(scanner, AUDITOR).status_code == 429  # a known address too, from this client
    assert ask_for_link(browser(client=("198.51.100.8", 50000)), UNKNOWN).status_code == 200  # others still may


# --- sessions ------------------------------------------------------------------------------------------------------

def open_direct(email: str = KNOWN) -> tuple[TestClient, str]:
    opened = in_transaction(lambda session: open_session(session, email, "link"))
    return session_for({SESSION: opened.token}), opened.token


def set_session_times(token: str, **values: Any) -> None:
    in_transaction(lambda session: session.execute(
        update(PortalSession).where(col(PortalSession.token_hash) == hash_secret(token)).values(**values)))


def test_an_idle_session_ends_and_so_does_an_old_one() -> None:
    client, token = open_direct()
    signed_in_as(client, KNOWN)
    now = pendulum.now("UTC")
    set_session_times(token, seen_at=now - timedelta(minutes=SESSION_IDLE_MINUTES - 2))
    signed_in_as(client, KNOWN)  # not idle long enough: still open, its idle clock renewed
    set_session_times(token, seen_at=now - timedelta(minutes=SESSION_IDLE_MINUTES + 1))
    assert signed_out(client)
    [ended] = sessions()
    assert ended.ended_at is not None
    set_session_times(token, seen_at=pendulum.now("UTC"))
    assert signed_out(client)  # ended for good

    # Active all along, but opened longer ago than the maximum.
    active, token = open_direct()
    set_session_times(token, created_at=pendulum.now("UTC") - timedelta(hours=SESSION_MAX_HOURS, minutes=1))
    assert signed_out(active)


def test_signing_out_ends_the_session() -> None:
    client, token = open_direct()
    page = client.get("/incidents")
    out = client.post("/deconnexion", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/connexion?deconnecte=1"
    cleared = cookie_set(out, SESSION)
    assert cleared is not None and (cleared.get("max-age") == "0" or cleared["value"] == "")
    assert signed_out(client)
    assert signed_out(session_for({SESSION: token}))  # the old cookie, kept by someone, no longer works
    [ended] = sessions()
    assert ended.ended_at is not None


def test_each_sign_in_opens_a_new_session(smtp: MailHandler) -> None:
    fixed = "valeur-imposee-par-un-tiers"
    client = session_for({SESSION: fixed})  # a session cookie planted before sign-in
    assert signed_out(client)
    ask_for_link(browser(), KNOWN)
    first = use_link(client, mailed_token(smtp, KNOWN))
    first_cookie = cookie_set(first, SESSION)
    assert first_cookie is not None and first_cookie["value"] != fixed
    signed_in_as(client, KNOWN)

    ask_for_link(browser(), KNOWN)
    second = use_link(client, mailed_token(smtp, KNOWN, nth=2))
    second_cookie = cookie_set(second, SESSION)
    assert second_cookie is not None and second_cookie["value"] not in (fixed, first_cookie["value"])
    signed_in_as(client, KNOWN)
    assert [s.token_hash for s in sessions()] == [hash_secret(first_cookie["value"]),
                                                  hash_secret(second_cookie["value"])]


def test_a_session_of_someone_not_in_the_parties_file_gives_no_access() -> None:
    client, _ = open_direct("ancien-agent@ac-nancy-metz.example.org")  # removed from the file since
    assert signed_out(client)


# --- OpenID Connect ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as started:
        yield started


@pytest.fixture
def oidc(provider: OidcProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> OidcProvider:
    provider.reset()
    monkeypatch.setattr("portal.oidc._metadata_cache", {})  # each test's provider behaviour, discovered afresh
    # The provider is plain http on loopback: no CA bundle for each of the portal's httpx clients to load (0.1 s).
    (tmp_path / "ca").mkdir()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "ca"))
    monkeypatch.setenv("INCIDENTS_OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("INCIDENTS_OIDC_CLIENT_ID", provider.client_id)
    monkeypatch.setenv("INCIDENTS_OIDC_CLIENT_SECRET", provider.client_secret or "")
    return provider


def to_provider(client: TestClient, provider: OidcProvider) -> str:
    """The portal sends the browser to the provider, which sends it back at once: the callback URL."""
    start = client.get("/connexion/oidc", follow_redirects=False)
    assert start.status_code == 303, start.text
    location = start.headers["location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    assert cookie_set(start, OIDC) is not None
    back = httpx.get(location, follow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    callback = back.headers["location"]
    assert callback.startswith(f"{PORTAL}/connexion/oidc/retour?")
    return callback


def oidc_sign_in(client: TestClient, provider: OidcProvider) -> httpx.Response:
    return client.get(to_provider(client, provider), follow_redirects=False)


def oidc_refused(response: httpx.Response, why: str) -> None:
    assert response.status_code == 403, response.text[:300]
    text = html.unescape(response.text)
    assert "Connexion refusée : " in text and why in text, text
    assert cookie_set(response, SESSION) is None
    assert sessions() == []


def test_oidc_signs_the_right_person_in(client: TestClient, oidc: OidcProvider) -> None:
    form = client.get("/connexion")
    assert 'href="/connexion/oidc"' in form.text
    signed = oidc_sign_in(client, oidc)
    assert signed.status_code == 303 and signed.headers["location"] == "/incidents"
    cookie = cookie_set(signed, SESSION)
    assert cookie is not None and cookie.get("httponly") is True and str(cookie.get("samesite")).lower() == "lax"
    assert "secure" not in cookie
    cleared = cookie_set(signed, OIDC)
    assert cleared is not None and (cleared.get("max-age") == "0" or cleared["value"] == "")
    signed_in_as(client, KNOWN)
    [opened] = sessions()
    assert (opened.email, opened.method) == (KNOWN, "oidc")

    [asked] = oidc.record.authorizations
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert asked["nonce"] and asked["state"] and asked["redirect_uri"] == f"{PORTAL}/connexion/oidc/retour"
    [exchanged] = oidc.record.token_requests
    assert exchanged["code_verifier"] and oidc.record.token_refusals == []
    assert exchanged["client_secret"] == oidc.client_secret


def test_oidc_reads_the_email_from_userinfo_when_the_id_token_has_none(client: TestClient,
                                                                       oidc: OidcProvider) -> None:
    oidc.reset(email_only_in_userinfo=True, email=REFERENT.upper())
    assert oidc_sign_in(client, oidc).status_code == 303
    assert oidc.record.userinfo_requests == 1
    signed_in_as(client, REFERENT)


VERIFY = "la réponse du fournisseur d'identité n'a pas pu être vérifiée"
UNCONFIRMED = "le fournisseur d'identité n'a pas confirmé votre adresse électronique"
REFUSALS: list[tuple[dict[str, Any], str]] = [
    ({"email": "intrus@example.org"}, "l'adresse intrus@example.org n'est pas celle d'une personne déclarée dans le "
                                      "fichier des parties"),
    ({"email_verified": False}, UNCONFIRMED),
    ({"email_verified": False, "email_only_in_userinfo": True}, UNCONFIRMED),
    ({"wrong_nonce": True}, f"{VERIFY} (jeton destiné à un autre service ou rejoué)"),
    ({"wrong_audience": True}, f"{VERIFY} (jeton destiné à un autre service ou rejoué)"),
    ({"expired": True}, f"{VERIFY} (jeton expiré)"),
    ({"email_only_in_userinfo": True, "userinfo_sub": "quelqu-un-d-autre"},
     f"{VERIFY} (informations d'une autre personne)"),
]


def test_oidc_refusals(oidc: OidcProvider) -> None:
    """Each refusal in French, and no session: one browser per case."""
    for behaviour, why in REFUSALS:
        oidc.reset(**behaviour)
        client = browser()
        oidc_refused(oidc_sign_in(client, oidc), why)
        assert signed_out(client), behaviour
        assert oidc.record.token_refusals == [], behaviour  # the exchange itself was fine: the answer is refused


OTHER_KEYS = [{"foreign_key": True}, {"unknown_kid": True}]  # the published kid, or one the JWKS does not hold


def test_oidc_refuses_a_token_signed_by_another_key_in_french(oidc: OidcProvider) -> None:
    for behaviour in OTHER_KEYS:
        oidc.reset(**behaviour)
        oidc_refused(oidc_sign_in(browser(raise_server_exceptions=False), oidc), VERIFY)


def test_a_token_signed_by_another_key_never_opens_a_session(oidc: OidcProvider) -> None:
    """Whatever the answer's form, nobody is signed in."""
    for behaviour in OTHER_KEYS:
        oidc.reset(**behaviour)
        client = browser(raise_server_exceptions=False)
        answer = oidc_sign_in(client, oidc)
        assert answer.status_code >= 400 and cookie_set(answer, SESSION) is None, behaviour
        assert sessions() == [] and signed_out(client), behaviour


def test_oidc_refusal_by_the_token_endpoint_is_said_in_french(oidc: OidcProvider) -> None:
    oidc.reset(refuse_token=True)
    client = browser(raise_server_exceptions=False)
    oidc_refused(oidc_sign_in(client, oidc), VERIFY)


def test_oidc_state_must_come_back_to_the_browser_that_asked(oidc: OidcProvider) -> None:
    victim = browser()
    callback = to_provider(victim, oidc)
    # Without the browser's cookie (the link opened elsewhere, or forged for someone else's browser).
    oidc_refused(browser().get(callback, follow_redirects=False), "ne vient pas de ce navigateur")
    # In another browser that began a sign-in of its own.
    other = browser()
    to_provider(other, oidc)
    oidc_refused(other.get(callback, follow_redirects=False), "ne vient pas de ce navigateur")
    assert signed_out(other)
    assert oidc.record.token_requests == []  # nothing exchanged for a callback that is not this browser's
    # Back in the right browser, but without the code, or without anything.
    without_code = re.sub(r"code=[^&]*&?", "", callback)
    oidc_refused(victim.get(without_code, follow_redirects=False), "ne vient pas de ce navigateur")
    oidc_refused(victim.get("/connexion/oidc/retour", follow_redirects=False), "ne vient pas de ce navigateur")


def test_oidc_callback_is_used_once(client: TestClient, oidc: OidcProvider) -> None:
    start = client.get("/connexion/oidc", follow_redirects=False)
    binding = cookie_set(start, OIDC)
    assert binding is not None
    callback = httpx.get(start.headers["location"], follow_redirects=False, timeout=10).headers["location"]
    assert client.get(callback, follow_redirects=False).status_code == 303
    replay = session_for({OIDC: binding["value"]})  # the same cookie and callback, again
    answer = replay.get(callback, follow_redirects=False)
    assert answer.status_code == 403 and cookie_set(answer, SESSION) is None
    assert len(sessions()) == 1


def test_oidc_provider_that_does_not_answer_or_names_another_issuer(client: TestClient, oidc: OidcProvider,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    oidc.reset(wrong_issuer=True)
    oidc_refused(client.get("/connexion/oidc", follow_redirects=False),
                 "le fournisseur d'identité ne se présente pas sous l'adresse configurée")
    assert oidc.record.authorizations == []
    monkeypatch.setenv("INCIDENTS_OIDC_ISSUER", f"http://127.0.0.1:{free_port()}")
    oidc_refused(client.get("/connexion/oidc", follow_redirects=False), "le fournisseur d'identité ne répond pas")


def test_without_oidc_settings_the_oidc_route_sends_back_to_the_form(client: TestClient) -> None:
    answer = client.get("/connexion/oidc", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion"
    assert 'href="/connexion/oidc"' not in client.get("/connexion").text


def test_oidc_refuses_email_verified_given_as_the_string_false(client: TestClient, oidc: OidcProvider) -> None:
    oidc.reset(email_verified="false")
    oidc_refused(oidc_sign_in(client, oidc), "n'a pas confirmé votre adresse électronique")


def test_oidc_reads_a_signed_userinfo_as_proconnect_sends_it(client: TestClient, oidc: OidcProvider) -> None:
    oidc.reset(email_only_in_userinfo=True, userinfo_as_jwt=True)
    assert oidc_sign_in(client, oidc).status_code == 303
    signed_in_as(client, KNOWN)


def test_oidc_issuer_with_a_trailing_slash(client: TestClient, oidc: OidcProvider,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    oidc.reset(trailing_slash_issuer=True)
    monkeypatch.setenv("INCIDENTS_OIDC_ISSUER", oidc.issuer + "/")
    assert oidc_sign_in(client, oidc).status_code == 303
    signed_in_as(client, KNOWN)


def test_oidc_without_email_verified_is_refused_unless_the_provider_is_trusted_to_verify(
        oidc: OidcProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    oidc.reset(email_verified=None)
    oidc_refused(oidc_sign_in(browser(), oidc), UNCONFIRMED)
    monkeypatch.setenv("INCIDENTS_OIDC_TRUST_EMAIL", "true")  # ProConnect's addresses are verified by its providers
    oidc.reset(email_verified=None)
    client = browser()
    assert oidc_sign_in(client, oidc).status_code == 303
    signed_in_as(client, KNOWN)
