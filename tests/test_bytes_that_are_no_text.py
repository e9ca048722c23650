"""Bytes that are no UTF-8 text, written beside the door into a text column SQLite reads, are named as such, by their
column, wherever they are read: by the command line's reads, by the portal's chain page and by `verify`; never as a
database out of reach, never with the bytes themselves."""

import pytest

from tests.conftest import AUDITOR, REFERENT
from tests.portal_client import Browser, bearer, declare, text_of
from tests.store_probe import execute

NOT_TEXT = "la colonne « {} » contient des octets qui ne sont pas du texte UTF-8, écrits hors de la porte unique"
# A column the timeline attests is named in French too.
TITLE_UNREADABLE = "Registre illisible : la colonne « title » (titre) contient des octets qui ne sont pas du texte " \
    "UTF-8, écrits hors de la porte unique. Aucune modification n'y a été faite."


def written_beside_the_door(store, table: str, column: str) -> None:
    execute(store, f"UPDATE {table} SET {column} = CAST(x'C328' AS TEXT) "
                   f"WHERE rowid = (SELECT max(rowid) FROM {table})")


@pytest.mark.parametrize("command", [("list",), ("show", "INC-2026-0001"), ("timeline", "INC-2026-0001")])
def test_a_read_names_the_column_and_says_nothing_was_changed(plain_cli, store, command):
    declare(REFERENT)
    written_beside_the_door(store, "incident", "title")

    result = plain_cli(*command, "--by", AUDITOR)
    assert result.exit_code == 1
    assert result.stderr == TITLE_UNREADABLE + "\n"


def test_the_portals_chain_page_names_an_altered_store(store):
    declare(REFERENT)
    written_beside_the_door(store, "timeline_entry", "actor")

    page = Browser(AUDITOR).get("/chaine")
    assert page.status_code == 200
    assert f"Registre altéré {NOT_TEXT.format('actor')}." in text_of(page.text)
    assert "None" not in text_of(page.text)


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/incidents/INC-2026-0001"])
def test_the_json_api_names_the_column_too(store, path):
    """The API's reads go through the database driver without the ORM: its error is named all the same."""
    declare(REFERENT)
    headers = bearer(AUDITOR)
    written_beside_the_door(store, "incident", "title")

    answer = Browser().client.get(path, headers=headers)
    assert answer.status_code == 503
    assert answer.json() == {"detail": TITLE_UNREADABLE}
