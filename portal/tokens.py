"""Personal access tokens for machine clients (a commune's ticketing system, the ENT vendor declaring): shown once,
stored hashed, bound to the person who creates them (their roles and party), revocable."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from models.access import create_token, revoke_token, tokens_of
from models.bounds import MAX_NAME, text_defect
from models.db import in_transaction
from portal.forms import PostedForm, text
from portal.web import check_csrf, read, render, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/jetons")
def tokens(request: Request) -> Response:
    person = signed_in(request)
    return render(request, "tokens.html.j2", {"tokens": read(lambda session: tokens_of(session, person)),
                                              "created": None, "errors": {}})


@router.post("/jetons")
def new_token(request: Request, form: PostedForm) -> Response:
    person = signed_in(request)
    check_csrf(request, form)
    label = text(form, "label")
    defect = text_defect(label, MAX_NAME) if label else "nommez l'application qui utilisera ce jeton"
    created = None if defect else in_transaction(lambda session: create_token(session, person, label))
    return render(request, "tokens.html.j2", {"tokens": read(lambda session: tokens_of(session, person)),
                                              "created": created, "errors": {"label": defect} if defect else {}},
                  status=400 if defect else 200)


@router.post("/jetons/{token_id}/revoquer")
def revoke(request: Request, token_id: int, form: PostedForm) -> Response:
    person = signed_in(request)
    check_csrf(request, form)
    if 0 < token_id < 2**31:  # the store's integers; beyond, there is no such token
        in_transaction(lambda session: revoke_token(session, person, token_id))
    return RedirectResponse("/jetons", status_code=303)
