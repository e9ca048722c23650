"""A signed-in browser for the portal's tests, without the mail round trip: a session opened as sign-in would."""

import re
from typing import Any

import pendulum
from fastapi.testclient import TestClient

from models.access import create_token, open_session
from models.commands import Declare
from models.db import in_transaction
from models.declaration import parse_declaration
from models.door import run
from portal.app import create_app
from settings.parties import load_parties
from tests.conftest import BASE_DECLARATION


class Browser:
    def __init__(self, email: str | None = None) -> None:
        self.client = TestClient(create_app(), follow_redirects=False)
        self.csrf = ""
        if email is not None:
            opened = in_transaction(lambda session: open_session(session, email, "link"))
            self.client.cookies.set("ent_session", opened.token)
            self.csrf = opened.csrf

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, **kwargs)


def bearer(email: str) -> dict[str, str]:
    person = load_parties().person(email)
    assert person is not None
    token = in_transaction(lambda session: create_token(session, person, "tests"))
    return {"Authorization": f"Bearer {token}"}


def declare(by: str, **changes: Any) -> str:
    """An incident through the door, as of now (the portal acts at the real instant)."""
    now = pendulum.now("UTC")
    document = {**BASE_DECLARATION, "aware_at": now.subtract(hours=1).isoformat(), **changes}
    person = load_parties().person(by)
    assert person is not None
    incident = run(Declare(parse_declaration(document, load_parties(), now)), person, now)
    return str(incident.ref)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
