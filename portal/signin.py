"""Signing in and out: a one-time link mailed through the outbox (the embedded default), or OpenID Connect with a
configured issuer (ProConnect, the académie's own provider), the verified e-mail mapped to a person of the parties'
file. Each sign-in opens a new session; nothing tells whether an address is known."""

import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.background import BackgroundTask

from models.access import end_session, link_address, masked_address, open_session, use_sign_in_link
from models.bounds import MAX_EMAIL, text_defect
from models.commands import RequestSignIn
from models.db import in_transaction
from portal import oidc
from portal.delivery import request_link
from portal.forms import PostedForm
from portal.throttle import Throttle
from portal.web import NEXT_COOKIE, SESSION_COOKIE, check_csrf, parties, read, render, served_over_https, visitor
from settings.env import oidc_settings, portal_url

router = APIRouter(include_in_schema=False)

# Per address (mails sent) and per client (requests), over 15 minutes: enough for a typo or a lost mail, not for a
# mailbomb or a scan. Behind a TLS front, set INCIDENTS_PORTAL_TRUSTED_PROXIES so that clients are told apart.
PER_ADDRESS = Throttle(limit=3, window_seconds=900)
PER_CLIENT = Throttle(limit=20, window_seconds=900)
PER_CLIENT_OIDC = Throttle(limit=30, window_seconds=900)
SENT = ("Si cette adresse est celle d'une personne déclarée, un lien de connexion vient de lui être envoyé. "
        "Il ne sert qu'une fois et expire dans 15 minutes.")


@router.get("/connexion")
def sign_in_form(request: Request) -> Response:
    if visitor(request).person is not None:
        return RedirectResponse("/incidents", status_code=303)
    return _sign_in_page(request)


@router.post("/connexion")
def ask_for_link(request: Request, form: PostedForm) -> Response:
    check_csrf(request, form)
    email = str(form.get("email") or "").strip()
    defect = text_defect(email, MAX_EMAIL) if email else "indiquez votre adresse électronique"
    if defect or "@" not in email:
        return _sign_in_page(request, 400, email=email[:MAX_EMAIL],
                             errors={"email": defect or "adresse électronique invalide"})
    if not PER_CLIENT.allow(_client_of(request)):
        return _sign_in_page(request, 429, email=email[:MAX_EMAIL], throttled=True)
    answer = render(request, "sign_in_sent.html.j2", {"message": SENT})
    person = parties().person(email)
    # Beyond a few links per address, the same answer but no more mail: nobody can lock a person out, or flood them.
    if person is not None and PER_ADDRESS.allow(email.lower()):
        # After the answer has left, so that a known address is not told apart by the time the answer takes.
        token = secrets.token_urlsafe(32)
        answer.background = BackgroundTask(request_link, RequestSignIn(
            token=token, link=f"{portal_url()}/connexion/lien/{token}"), person)
    return answer


def _client_of(request: Request) -> str:
    """The client's address as the portal sees it (behind a proxy, the proxy's: set its limits there too)."""
    return request.client.host if request.client else "?"


@router.get("/connexion/lien/{token}")
def confirm_link(request: Request, token: str) -> Response:
    """A page with a button: a mail scanner that opens the link does not spend it. It names (half hidden) whom the
    link signs in, and warns who is signed in as someone else."""
    email = read(lambda session: link_address(session, token[:100]))
    return render(request, "sign_in_confirm.html.j2", {"token": token[:100], "masked": masked_address(email)})


@router.post("/connexion/lien")
def use_link(request: Request, form: PostedForm) -> Response:
    check_csrf(request, form)
    email = in_transaction(lambda session: use_sign_in_link(session, str(form.get("token") or "")[:100]))
    if email is None or parties().person(email) is None:
        return _sign_in_page(request, 400, link_refused=True)
    return _signed_in(request, email, "link")


def _signed_in(request: Request, email: str, method: str) -> Response:
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # a new sign-in on this browser ends the session it had
        in_transaction(lambda session: end_session(session, previous))
    opened = in_transaction(lambda session: open_session(session, email, method))
    wanted = request.cookies.get(NEXT_COOKIE, "")
    # A path of this portal only: never another site ("//…", "/\…"), never back to the sign-in pages.
    target = wanted if re.fullmatch(r"/[A-Za-z0-9/_.\-]*", wanted) and not wanted.startswith(("//", "/connexion")) \
        else "/incidents"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(NEXT_COOKIE, path="/")
    # No max-age: the browser forgets it when closed; the store ends it after SESSION_IDLE_MINUTES idle.
    response.set_cookie(SESSION_COOKIE, opened.token, httponly=True, samesite="lax", path="/",
                        secure=served_over_https(request))
    response.delete_cookie(OIDC_COOKIE, path="/")
    return response


@router.post("/deconnexion")
def sign_out(request: Request, form: PostedForm) -> Response:
    check_csrf(request, form)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        in_transaction(lambda session: end_session(session, cookie))
    response = RedirectResponse("/connexion?deconnecte=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- OpenID Connect ------------------------------------------------------------------------------------------------

OIDC_COOKIE = "ent_oidc"
_pending: dict[str, dict[str, str]] = {}  # state -> nonce, verifier and this browser's binding
MAX_PENDING = 1000  # sign-ins begun and never finished are forgotten, oldest first


@router.get("/connexion/oidc")
def oidc_start(request: Request) -> Response:
    if oidc_settings() is None:
        return RedirectResponse("/connexion", status_code=303)
    if not PER_CLIENT_OIDC.allow(_client_of(request)):
        return _sign_in_page(request, 429, throttled=True)
    state, nonce, verifier, binding = (secrets.token_urlsafe(24) for _ in range(4))
    try:
        url = oidc.authorization_url(state, nonce, verifier)
    except oidc.OidcRefused as error:
        return _oidc_refused(request, str(error))
    _pending[state] = {"nonce": nonce, "verifier": verifier, "binding": binding}
    while len(_pending) > MAX_PENDING:
        _pending.pop(next(iter(_pending)))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(OIDC_COOKIE, f"{state}.{binding}", httponly=True, samesite="lax", path="/", max_age=600,
                        secure=served_over_https(request))
    return response


@router.get("/connexion/oidc/retour")
def oidc_return(request: Request, state: str = "", code: str = "") -> Response:
    cookie_state, _, binding = request.cookies.get(OIDC_COOKIE, "").partition(".")
    pending = _pending.pop(state, None) if state and state == cookie_state else None
    if pending is None or not secrets.compare_digest(pending["binding"], binding) or not code:
        return _oidc_refused(request, "la demande de connexion a expiré ou ne vient pas de ce navigateur")
    try:
        email = oidc.verified_email(code, pending["nonce"], pending["verifier"])
    except oidc.OidcRefused as error:
        return _oidc_refused(request, str(error))
    if email is None:
        return _oidc_refused(request, "le fournisseur d'identité n'a pas confirmé votre adresse électronique")
    if parties().person(email) is None:
        return _oidc_refused(request, f"l'adresse {email} n'est pas celle d'une personne déclarée dans le fichier "
                                      "des parties ; demandez à l'administrateur du moteur de vous y ajouter")
    return _signed_in(request, email, "oidc")


def _oidc_refused(request: Request, why: str) -> Response:
    return _sign_in_page(request, 403, oidc_refused=why)


def _sign_in_page(request: Request, status: int = 200, **shown: Any) -> Response:
    context = {"oidc": oidc_settings() is not None, "email": "", "errors": {}, "throttled": False,
               "link_refused": False, "oidc_refused": "", "signed_out": "deconnecte" in request.query_params,
               **shown}
    return render(request, "sign_in.html.j2", context, status=status)
