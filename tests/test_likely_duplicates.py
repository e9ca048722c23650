"""RG-DUP-01: a declaration that likely repeats another (same commune, awareness within 72 hours, similar title) is
flagged to its declarant and on the dashboard; anything else is not."""

import json
import threading
import time
from datetime import timedelta

import pendulum
import pytest

from policy.duplicates import Declared, likely_duplicates
from tests.conftest import REFERENT, TRIAGER, write_declaration
from tests.portal_client import Browser, declare, text_of

AWARE = pendulum.datetime(2026, 11, 28, 8, 30)
FIRST = Declared(ref="INC-2026-0001", insee="54999", aware_at=AWARE,
                 title="Messagerie de l'ENT accessible sans authentification", status="open")


def candidate(**changes: object) -> Declared:
    facts = {"ref": "INC-2026-0002", "insee": "54999", "aware_at": AWARE.add(hours=5),
             "title": "Messagerie ENT accessible sans authentification !", "status": "queued", **changes}
    return Declared(**facts)  # type: ignore[arg-type]


def test_same_commune_close_awareness_and_similar_title_is_flagged() -> None:
    assert likely_duplicates(candidate(), [FIRST]) == ["INC-2026-0001"]
    # Case, accents and punctuation do not hide a repeat.
    assert likely_duplicates(candidate(title="MESSAGERIE DE L’ENT ACCESSIBLE SANS AUTHENTIFICATION"), [FIRST])


@pytest.mark.parametrize("changes", [
    {"insee": "57999"},  # another commune
    {"aware_at": AWARE + timedelta(hours=73)},  # more than three days apart
    {"title": "Rançongiciel sur le serveur de l'école"},  # another incident
])
def test_anything_else_is_not_flagged(changes: dict[str, object]) -> None:
    assert likely_duplicates(candidate(**changes), [FIRST]) == []


def test_an_incident_already_set_aside_is_no_original() -> None:
    dismissed = Declared(**{**FIRST.__dict__, "status": "dismissed"})
    assert likely_duplicates(candidate(), [dismissed]) == []


def test_the_declarant_is_warned_on_the_command_line(cli, smtp, tmp_path) -> None:
    first = cli("declare", str(write_declaration(tmp_path, "a.yaml")), "--by", REFERENT,
                "--at", "2026-11-28T10:00:00+01:00")
    assert first.exit_code == 0, first.output
    assert "Doublon" not in first.output and "ressemble" not in first.output

    again = write_declaration(tmp_path, "b.yaml", title="Messagerie ENT accessible sans authentification",
                              aware_at="2026-11-28T11:00:00+01:00")
    second = cli("declare", str(again), "--by", REFERENT, "--at", "2026-11-28T11:30:00+01:00")
    assert second.exit_code == 0, second.output  # a warning, never a refusal
    assert ("Attention : cette déclaration ressemble à INC-2026-0001 (même commune, prise de connaissance à moins "
            "de 72 heures d'écart, intitulé proche)") in second.output

    as_json = cli("declare", str(again), "--json", "--by", REFERENT, "--at", "2026-11-28T11:40:00+01:00")
    assert json.loads(as_json.stdout)["possible_duplicates"] == ["INC-2026-0001", "INC-2026-0002"]
    # The académie, who sets duplicates aside, reads it in the alert and in `show`.
    [alert] = [mail for mail in smtp.to(TRIAGER) if "INC-2026-0002" in str(mail.message["Subject"])
               and "Alerte" in str(mail.message["Subject"])]
    assert "Attention : cette déclaration ressemble à INC-2026-0001" in alert.text
    assert "ressemble à INC-2026-0001" in cli("show", "INC-2026-0002", "--by", TRIAGER).output
    assert "ressemble" not in cli("show", "INC-2026-0001", "--by", TRIAGER).output


@pytest.fixture
def portal_work_finished():
    yield
    deadline = time.monotonic() + 60
    for thread in [t for t in threading.enumerate() if t.name.startswith("portal-")]:
        thread.join(max(0.0, deadline - time.monotonic()))


def test_the_portal_flags_it_after_declaring_and_on_the_dashboard(portal_work_finished) -> None:
    first = declare(REFERENT)
    second = declare(REFERENT, title="Messagerie de l'ENT accessible sans authentification (bis)")
    other = declare(REFERENT, title="Rançongiciel sur le serveur de l'école")

    declared_page = text_of(Browser(REFERENT).get(f"/incidents/{second}/enregistre").text)
    assert "Doublon possible" in declared_page and f"ressemble à {first}" in declared_page
    assert "Doublon possible" not in text_of(Browser(REFERENT).get(f"/incidents/{other}/enregistre").text)

    dashboard = text_of(Browser(TRIAGER).get("/incidents").text)
    assert f"doublon possible de {first}" in dashboard
    assert dashboard.count("doublon possible de") == 1
    assert f"ressemble à {first}" in text_of(Browser(TRIAGER).get(f"/incidents/{second}").text)
