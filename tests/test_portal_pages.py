"""The portal's pages do what each person came for: the dashboard by next deadline, the declaration form's errors
beside each field, attachments stored by their SHA-256 and served only to readers, and the JSON API with personal
access tokens (stored hashed, bound to a person, revocable)."""

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import pendulum
import pytest
from sqlmodel import col, select

from flows.steps import propose_scopes
from models.db import session_scope
from models.incident import Incident
from settings.env import var_dir
from tests.conftest import REFERENT, TRIAGER
from tests.portal_client import Browser, bearer, declare, text_of

OTHER_REFERENT = "numerique@montigny-sur-exemple.example.org"


@pytest.fixture(autouse=True)
def portal_work_finished():
    """The portal's background work (intake, deliveries) ends within its test, never in the next test's store."""
    yield
    deadline = time.monotonic() + 60
    for thread in [t for t in threading.enumerate() if t.name.startswith("portal-")]:
        thread.join(max(0.0, deadline - time.monotonic()))


def take_in(*refs: str) -> None:
    with session_scope() as session:
        ids = list(session.exec(select(Incident.id).where(col(Incident.ref).in_(refs))))
    propose_scopes([i for i in ids if i is not None], pendulum.now("UTC"))


def test_dashboard_lists_overdue_first_then_by_deadline_and_filters_by_commune():
    late = declare(REFERENT, title="Alerte en retard", aware_at=pendulum.now("UTC").subtract(hours=60).isoformat())
    soon = declare(REFERENT, title="Échéance proche", aware_at=pendulum.now("UTC").subtract(hours=40).isoformat())
    later = declare(OTHER_REFERENT, municipality="57999", title="Échéance lointaine")
    take_in(late, soon, later)
    page = text_of(Browser(TRIAGER).get("/incidents").text)
    assert page.index(late) < page.index(soon) < page.index(later)
    assert "dont 1 avec une échéance dépassée" in page
    filtered = text_of(Browser(TRIAGER).get("/incidents?commune=57999").text)
    assert later in filtered and late not in filtered
    own = text_of(Browser(REFERENT).get("/incidents").text)
    assert late in own and later not in own  # a commune sees its own incidents only


def test_declaration_form_names_each_refused_field_and_writes_nothing():
    browser = Browser(REFERENT)
    answer = browser.post("/incidents/nouveau", {"title": "", "description": "x", "municipality": "54999",
                                                 "aware_at": "", "personal_data": "no", "pupils": "-3"})
    assert answer.status_code == 400
    assert 'id="erreur-title"' in answer.text and 'id="erreur-aware_at"' in answer.text
    assert 'id="erreur-categories"' in answer.text and 'id="erreur-pupils"' in answer.text
    assert "champs à corriger ; rien n'a été enregistré" in text_of(answer.text)
    future = pendulum.now("Europe/Paris").add(days=1).format("YYYY-MM-DDTHH:mm")
    answer = browser.post("/incidents/nouveau", {"title": "T", "description": "D", "municipality": "54999",
                                                 "aware_at": future, "categories": "vendor", "personal_data": "no"})
    assert "la date est dans le futur" in answer.text
    with session_scope() as session:
        assert session.exec(select(Incident)).all() == []


def test_a_referent_declares_for_their_own_commune_only():
    answer = Browser(REFERENT).post("/incidents/nouveau", {
        "title": "T", "description": "D", "municipality": "57999", "categories": "vendor", "personal_data": "no",
        "aware_at": pendulum.now("Europe/Paris").subtract(hours=1).format("YYYY-MM-DDTHH:mm")})
    assert answer.status_code == 403
    assert "RG-DOOR-01" in answer.text


def test_attachment_is_stored_by_hash_on_the_timeline_and_served_only_to_readers():
    ref = declare(REFERENT)
    take_in(ref)
    content = b"2026-11-30 03:12 login admin from 203.0.113.7\n"
    browser = Browser(REFERENT)
    answer = browser.post(f"/incidents/{ref}/pieces-jointes", {"note": "journal du prestataire"},
                          files={"file": ("connexions.log", content, "text/plain")})
    assert answer.status_code == 303, answer.text
    sha256 = hashlib.sha256(content).hexdigest()
    stored = var_dir() / "attachments" / sha256[:2] / sha256
    assert stored.read_bytes() == content
    page = browser.get(f"/incidents/{ref}").text
    assert sha256 in page
    timeline = Browser(TRIAGER).get(f"/incidents/{ref}/chronologie?format=csv").text
    assert "Pièce jointe" in timeline or "attachment_added" in timeline
    download = Browser(TRIAGER).get(f"/incidents/{ref}/pieces-jointes/1")
    assert download.content == content
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "application/octet-stream"
    assert Browser(OTHER_REFERENT).get(f"/incidents/{ref}/pieces-jointes/1").status_code == 404
    assert Browser().get(f"/incidents/{ref}/pieces-jointes/1").status_code == 303  # to the sign-in page


def test_attachment_refused_when_too_large_of_a_forbidden_type_or_lying_about_its_type(monkeypatch):
    monkeypatch.setenv("INCIDENTS_MAX_ATTACHMENT_MEGABYTES", "1")
    ref = declare(REFERENT)
    browser = Browser(REFERENT)
    cases = {("page.html", b"<script>alert(1)</script>"): "type de fichier non accepté",
             ("rapport.pdf", b"MZ\x90\x00 not a pdf"): "ne correspond pas à son extension",
             ("gros.txt", b"a" * (1024 * 1024 + 1)): "fichier trop volumineux"}
    for (name, content), message in cases.items():
        answer = browser.post(f"/incidents/{ref}/pieces-jointes", files={"file": (name, content, "text/plain")})
        assert answer.status_code == 400, name
        assert message in answer.text, name
    assert [path for path in (var_dir() / "attachments").rglob("*") if path.is_file()] == []


def test_api_token_declares_reads_and_stops_working_once_revoked(store: Path):
    headers = bearer(REFERENT)
    client = Browser().client
    document = {"title": "Déclaré par l'outil de tickets", "description": "Ticket 4521", "declared_by": "municipality",
                "municipality": "54999", "reporter": {"name": "Outil", "email": REFERENT},
                "aware_at": pendulum.now("UTC").subtract(hours=2).isoformat(), "categories": ["vendor"],
                "personal_data": "no"}
    created = client.post("/api/v1/incidents", json=document, headers=headers)
    assert created.status_code == 201, created.text
    ref = created.json()["ref"]
    assert client.get(f"/api/v1/incidents/{ref}", headers=headers).json()["title"] == document["title"]
    refused = client.post("/api/v1/incidents", json={**document, "municipality": "57999"}, headers=headers)
    assert refused.status_code == 403
    invalid = client.post("/api/v1/incidents", json={**document, "aware_at": "hier"}, headers=headers)
    assert invalid.status_code == 422 and invalid.json()["erreurs"][0]["champ"] == "aware_at"
    with sqlite3.connect(store) as connection:
        [(stored,)] = connection.execute("SELECT token_hash FROM access_token").fetchall()
    token = headers["Authorization"].split()[1]
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    browser = Browser(REFERENT)
    assert browser.post("/jetons/1/revoquer").status_code == 303
    assert client.get(f"/api/v1/incidents/{ref}", headers=headers).status_code == 401
    assert client.get("/api/v1/incidents").status_code == 401


def test_the_assessment_panel_shows_the_enisa_computation_for_the_factors_given():
    ref = declare(REFERENT, personal_data="yes", data_subjects={"pupils": 30})
    answer = Browser("dpd@ac-nancy-metz.example.org").post(
        f"/incidents/{ref}/violation/apercu", {"data_types": "behavioural", "ease_of_identification": "maximum",
                                               "confidentiality": "limited", "malicious": "yes"},
        headers={"X-Apercu": "1"})
    panel = text_of(answer.text)
    assert "SE = 3,75" in panel  # DPC 2 + 1 (pupils are minors) = 3; 3 × 1 + 0,25 + 0,5
    assert "élevée" in panel


def test_an_unforeseen_error_gets_a_french_page_and_its_detail_goes_to_the_log_only(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("titre secret d'un incident")

    monkeypatch.setattr("portal.incidents.dashboard_rows", broken)
    answer = Browser(TRIAGER).get("/incidents")
    assert answer.status_code == 500
    assert "Erreur inattendue" in answer.text and "titre secret" not in answer.text
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "titre secret d'un incident" in (var_dir() / "logs" / "errors.log").read_text(encoding="utf-8")


def test_a_refusal_stays_on_the_page_beside_the_form_with_what_was_typed():
    ref = declare(REFERENT)
    take_in(ref)
    browser = Browser(TRIAGER)
    answer = browser.post(f"/incidents/{ref}/classement", {"dismiss_reason": "   "})
    assert answer.status_code == 400
    assert 'id="erreur-dismiss_reason"' in answer.text and 'href="#champ-dismiss_reason"' in answer.text
    # The commune handles this one (its scope): the académie's follow-up is refused, said on the incident's page.
    answer = browser.post(f"/incidents/{ref}/suivi", {"done": "d", "planned": "p", "impact": "i"})
    assert answer.status_code == 403
    assert "Action refusée" in answer.text and "RG-DOOR" in answer.text and ref in answer.text
    answer = Browser(REFERENT).post(f"/incidents/{ref}/cloture", {"summary": "", "measures": "Texte déjà écrit"})
    assert answer.status_code == 400
    assert 'id="erreur-summary"' in answer.text and "Texte déjà écrit" in answer.text


def test_follow_up_and_closure_are_offered_to_the_handling_party_only():
    ref = declare(REFERENT)  # vendor: the commune's scope, the commune handles it
    take_in(ref)
    assert "Envoyer le point de suivi" in Browser(REFERENT).get(f"/incidents/{ref}").text
    academy = Browser(TRIAGER).get(f"/incidents/{ref}").text
    assert "Envoyer le point de suivi" not in academy
    assert "reviennent à la commune, chargée de l'incident" in text_of(academy)


def test_a_mailed_link_opened_signed_out_leads_there_after_sign_in(smtp, monkeypatch):
    monkeypatch.setenv("INCIDENTS_PORTAL_URL", "http://testserver")
    ref = declare(REFERENT)
    browser = Browser()
    assert browser.get(f"/incidents/{ref}").headers["location"] == "/connexion"
    form = browser.get("/connexion").text
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    browser.client.post("/connexion", data={"csrf": csrf, "email": REFERENT})
    deadline = time.monotonic() + 20
    while not smtp.to(REFERENT, "lien de connexion") and time.monotonic() < deadline:
        time.sleep(0.1)
    link = smtp.to(REFERENT, "lien de connexion")[0].text.split("http://testserver")[1].split()[0]
    page = browser.get(link).text
    token = page.split('name="token" value="')[1].split('"')[0]
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    signed = browser.client.post("/connexion/lien", data={"csrf": csrf, "token": token})
    assert signed.headers["location"] == f"/incidents/{ref}"


def test_the_declared_page_says_a_deadline_already_past():
    late = declare(REFERENT, aware_at=pendulum.now("UTC").subtract(hours=50).isoformat())
    page = text_of(Browser(REFERENT).get(f"/incidents/{late}/enregistre").text)
    assert "dépassée de 2 heures" in page and "dans " not in page.split("Le délai")[1].split("Ce qui")[0]


def test_a_download_keeps_its_french_file_name():
    ref = declare(REFERENT)
    Browser(REFERENT).post(f"/incidents/{ref}/pieces-jointes",
                           files={"file": ("relevé d'accès.csv", b"date;ip\n", "text/csv")})
    disposition = Browser(REFERENT).get(f"/incidents/{ref}/pieces-jointes/1").headers["content-disposition"]
    assert disposition == ("attachment; filename=\"relev__d_acc_s.csv\"; "
                           "filename*=UTF-8''relev%C3%A9%20d%27acc%C3%A8s.csv")


def test_a_body_without_length_is_cut_at_the_limit(monkeypatch):
    monkeypatch.setenv("INCIDENTS_MAX_ATTACHMENT_MEGABYTES", "1")
    ref = declare(REFERENT)
    browser = Browser(REFERENT)

    def chunks():
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MB, streamed without Content-Length

    answer = browser.client.post(f"/incidents/{ref}/pieces-jointes", content=chunks(),
                                 headers={"content-type": "multipart/form-data; boundary=b"})
    assert answer.status_code == 413
    assert [path for path in (var_dir() / "attachments").rglob("*") if path.is_file()] == []


def test_a_token_opens_the_api_only_never_the_pages():
    headers = bearer(REFERENT)
    client = Browser().client
    assert client.post("/jetons", data={"label": "copie"}, headers=headers).headers["location"] == "/connexion"
    assert client.get("/incidents", headers=headers).headers["location"] == "/connexion"
    assert client.get("/api/v1/incidents", headers=headers).status_code == 200


def test_dates_are_read_day_first_and_nothing_else_is_guessed():
    browser = Browser(REFERENT)
    form = {"title": "T", "description": "D", "municipality": "54999", "categories": "vendor",
            "personal_data": "no"}
    for typed in ("9", "now", "2026-11-29T10:00+05:00", "10/31/2026 09:00", "29/03/2026 02:30"):
        answer = browser.post("/incidents/nouveau", {**form, "aware_at": typed})
        assert answer.status_code == 400, typed
        assert 'id="erreur-aware_at"' in answer.text, typed
    assert "passage à l&#39;heure d&#39;été" in browser.post("/incidents/nouveau",
                                                            {**form, "aware_at": "29/03/2026 02:30"}).text
    answer = browser.post("/incidents/nouveau", {**form, "aware_at": "11/10/2026 09:00"})
    assert answer.status_code == 303
    ref = answer.headers["location"].split("/")[2]
    assert "dimanche 11 octobre 2026 à 09h00" in text_of(browser.get(f"/incidents/{ref}").text)


def test_odd_inputs_get_french_refusals_not_errors():
    ref = declare(REFERENT)
    headers = bearer(TRIAGER)
    client = Browser().client
    for body in ({"scope": ["shared"]}, {"scope": "shared", "reason": 5}):
        answer = client.post(f"/api/v1/incidents/{ref}/triage", json=body, headers=headers)
        assert answer.status_code == 422, body
    browser = Browser(REFERENT)
    assert browser.get(f"/incidents/{ref}/pieces-jointes/99999999999999999999").status_code == 404
    assert browser.post("/jetons/99999999999999999999/revoquer").status_code == 303
    assert browser.get("/incidents/A%00B").status_code == 404
    assert browser.post("/incidents/nouveau", {"title": "T", "description": "D", "municipality": "54999",
                                               "categories": "vendor", "personal_data": "no", "pupils": "²",
                                               "aware_at": "28/11/2026 09:00"}).status_code == 400
    hidden = browser.post(f"/incidents/{ref}/pieces-jointes",
                          files={"file": ("facture\u202efdp.txt", b"texte", "text/plain")})
    assert hidden.status_code == 400 and "caractère invisible" in hidden.text
    assert browser.get("/pas-de-page").status_code == 404
    assert "Cette page n&#39;existe pas" in browser.get("/pas-de-page").text


def test_unreadable_or_oversized_requests_are_answered_in_french(monkeypatch):
    monkeypatch.setenv("INCIDENTS_MAX_ATTACHMENT_MEGABYTES", "1")
    ref = declare(REFERENT)
    client = Browser().client
    headers = {**bearer(TRIAGER), "content-type": "application/json"}
    big = b'{"reason": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    answer = client.post(f"/api/v1/incidents/{ref}/dismiss", content=big, headers=headers)
    assert answer.status_code == 413 and answer.json()["detail"] == "Envoi trop volumineux."
    broken = client.post(f"/api/v1/incidents/{ref}/dismiss", content=b'{"reason": "\xff\xfe"}', headers=headers)
    assert broken.status_code in (400, 422) and "error" not in broken.text.lower()
    crowded = Browser(REFERENT).post("/incidents/nouveau", {f"champ{n}": "x" for n in range(300)})
    assert crowded.status_code == 400 and "Formulaire ou requête illisible" in crowded.text
    assert "Too many" not in crowded.text
    wide = Browser(REFERENT).post("/incidents/nouveau", {
        "title": "T", "description": "D", "municipality": "54999", "categories": "vendor", "personal_data": "no",
        "aware_at": "２０２６-１１-２８T０９:００"})
    assert wide.status_code == 400 and 'id="erreur-aware_at"' in wide.text
