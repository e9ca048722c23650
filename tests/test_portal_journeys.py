"""The portal, end to end, in Debian's Chromium: one journey per role on a running portal (uvicorn in this process)
with a real SMTP server. Each person signs in by the link mailed to them, in a browser context of their own; the
referent declares, the académie is alerted, the triager acknowledges and triages, the referent sees the
acknowledgement, the DPD assesses (the live ENISA panel works under the CSP), decides, downloads a draft and records
the CNIL filing, and the auditor reads the audit file and downloads an export that `incidents verify` accepts.
No browser console error on any page."""

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ACADEMY_ALERTS, AUDITOR, DPD, REFERENT, TRIAGER, Cli, MailHandler, free_port

pytestmark = [pytest.mark.slow, pytest.mark.real_store]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PARIS = ZoneInfo("Europe/Paris")
WAIT = 30.0  # seconds: the longest any background work (intake, delivery) may take to reach its state
SIGN_IN_SUBJECT = "Votre lien de connexion au portail"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"Pas atteint en {timeout:.0f} s : {what}")
        time.sleep(0.1)


def paris_minute(instant: datetime) -> str:
    """A `datetime-local` value: Paris wall time, to the minute."""
    return instant.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def portal(smtp: MailHandler, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The portal on a free port, its sign-in links pointing at it; no Prefect service, so it does intake itself."""
    from portal.server import start_in_thread

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("INCIDENTS_PORTAL_URL", url)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    server = start_in_thread(port)
    try:
        yield url
    finally:
        try:  # the portal's background work (delivery, intake, dispatch) ends before the store's environment goes
            wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("portal-") and t.is_alive()],
                     "fin du travail de fond du portail")
        finally:
            server.should_exit = True
            for thread in threading.enumerate():
                if thread.name == "portal":
                    thread.join(10)


@dataclass
class Browsing:
    """One Chromium for the journey; a context per person; every console error of every page, labelled."""

    browser: Any
    url: str
    smtp: MailHandler
    errors: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def person(self, email: str) -> Any:
        context = self.browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                           locale="fr-FR", timezone_id="Europe/Paris")
        self.contexts.append(context)
        context.set_default_timeout(WAIT * 1000)
        context.on("page", lambda page: self._watch(page, email))
        page = context.new_page()
        return page

    def _watch(self, page: Any, who: str) -> None:
        page.on("console", lambda message: self.errors.append(
            f"{who} {page.url} console: {message.text} (at {message.location})") if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"{who} {page.url} pageerror: {error}"))

    def sign_in(self, email: str, screenshot: str | None = None) -> Any:
        """A new person's page, signed in by the link mailed to them."""
        from playwright.sync_api import expect

        page = self.person(email)
        visit(page, f"{self.url}/connexion")
        if screenshot:
            shoot(page, screenshot)
        before = len(self.smtp.to(email, SIGN_IN_SUBJECT))
        page.fill("#champ-email", email)
        follow(page, page.get_by_role("button", name="Recevoir un lien de connexion"), f"{self.url}/connexion")
        expect(page.get_by_text("un lien de connexion vient de lui être envoyé")).to_be_visible()
        mail = wait_for(lambda: self.smtp.to(email, SIGN_IN_SUBJECT)[before:], f"lien de connexion pour {email}")[0]
        link = re.search(rf"{re.escape(self.url)}/connexion/lien/[A-Za-z0-9_-]+", mail.text)
        assert link, mail.text
        visit(page, link.group(0))
        follow(page, page.get_by_role("button", name="Me connecter"), f"{self.url}/incidents")
        expect(page.locator("#moi")).to_be_visible()
        return page


def _landed(page: Any, response: Any, url: str | re.Pattern[str]) -> re.Match[str]:
    """The page answered 200 at `url` (or a URL matching it); else fail with what the portal showed instead."""
    landed = (url if isinstance(url, re.Pattern) else re.compile(re.escape(url))).fullmatch(page.url)
    if landed is None or response is None or response.status != 200:
        main = page.locator("main")
        shown = main.inner_text() if main.count() else page.locator("body").inner_text()
        status = response.status if response is not None else "?"
        raise AssertionError(f"attendu {url}, arrivé sur {page.url} ({status}) :\n{shown[:3000]}")
    return landed


def visit(page: Any, url: str) -> None:
    _landed(page, page.goto(url), url)


def follow(page: Any, target: Any, url: str | re.Pattern[str]) -> re.Match[str]:
    """Click a link or a form's button and land on `url` (or a URL matching it), redirects followed."""
    with page.expect_navigation() as navigation:
        target.click()
    return _landed(page, navigation.value, url)


def shoot(page: Any, name: str) -> None:
    """A full-page PNG. The caret is left alone: hiding it writes a style attribute on every input, which a
    script copying markup (DSFR's header) would then carry into an inline style the CSP refuses."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True, caret="initial")


@pytest.fixture
def browsing(portal: str, smtp: MailHandler) -> Iterator[Browsing]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT * 1000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        session = Browsing(browser, portal, smtp)
        try:
            yield session
        finally:
            expect.set_options(timeout=5_000)  # Playwright's default, for whatever runs next in this process
            if session.errors:  # shown with a failure that came first
                print("Erreurs de la console du navigateur :", *session.errors, sep="\n")
            for context in session.contexts:
                context.close()
            browser.close()


def test_each_role_end_to_end_in_chromium(browsing: Browsing, smtp: MailHandler, plain_cli: Cli,
                                          tmp_path: Path) -> None:
    from playwright.sync_api import expect

    url = browsing.url

    # (1) The referent signs in by the mailed link and declares.
    referent = browsing.sign_in(REFERENT, screenshot="sign-in")
    follow(referent, referent.get_by_role("link", name="Déclarer un incident").first, f"{url}/incidents/nouveau")
    referent.fill("#champ-title", "Messagerie de l'ENT accessible sans authentification")
    referent.fill("#champ-description", "Le prestataire signale une mise à jour défectueuse de la messagerie : "
                                        "des messages d'élèves sont lisibles sans se connecter.")
    referent.fill("#champ-aware_at", paris_minute(datetime.now(PARIS) - timedelta(hours=1)))
    for category in ("vendor", "personal_data"):
        referent.check(f"input[name=categories][value={category}]", force=True)
    referent.check("input[name=personal_data][value=unknown]", force=True)
    referent.check("input[name=schools][value='0549001A']", force=True)
    referent.fill("#champ-pupils", "120")
    shoot(referent, "declare")
    ref = follow(referent, referent.get_by_role("button", name="Enregistrer la déclaration"),
                 re.compile(rf"{re.escape(url)}/incidents/(INC-\d{{4}}-\d{{4}})/enregistre")).group(1)
    heading = referent.get_by_role("heading", name=re.compile("Déclaration enregistrée"))
    expect(heading).to_have_text(f"Déclaration enregistrée sous la référence {ref}")
    shoot(referent, "declared")
    wait_for(lambda: smtp.to(REFERENT, f"[{ref}] Accusé d'enregistrement"), "accusé d'enregistrement au référent")
    page, breach = f"{url}/incidents/{ref}", f"{url}/incidents/{ref}/violation"

    # (2) The alert reaches the académie.
    wait_for(lambda: all(smtp.to(address, f"[{ref}] Alerte") for address in ACADEMY_ALERTS),
             f"alerte {ref} à {', '.join(ACADEMY_ALERTS)}")

    # (3) The triager sees it on the dashboard, acknowledges the alert, triages.
    triager = browsing.sign_in(TRIAGER)
    expect(triager.get_by_role("link", name=ref)).to_be_visible()
    shoot(triager, "dashboard")
    follow(triager, triager.get_by_role("link", name=ref), page)
    expect(triager.locator("#accuse")).to_contain_text("Pas encore reçu")
    follow(triager, triager.get_by_role("button", name="Accuser réception de l'alerte"), f"{page}?fait=accuse")
    expect(triager.locator("#accuse")).to_contain_text(f"par {TRIAGER}")
    expect(triager.get_by_text("Proposée par le moteur :", exact=True)).to_be_visible()
    triager.check("input[name=scope][value=shared]", force=True)
    triager.fill("#champ-reason", "Prestataire de la messagerie et données des élèves : les deux parties agissent.")
    follow(triager, triager.get_by_role("button", name="Arrêter la portée"), f"{page}?fait=portee")
    expect(triager.get_by_text("Arrêtée :", exact=True)).to_be_visible()
    shoot(triager, "incident-triager")

    # (4) The referent sees the acknowledgement.
    visit(referent, page)
    expect(referent.locator("#accuse")).to_have_text(re.compile(rf"Reçu le .+, par {re.escape(TRIAGER)}\."))
    expect(referent.get_by_text("Arrêtée :", exact=True)).to_be_visible()
    shoot(referent, "incident-referent")

    # (5) The DPD assesses (the live panel follows the factors), decides, downloads a draft, records the filing.
    dpd = browsing.sign_in(DPD)
    visit(dpd, page)
    follow(dpd, dpd.get_by_role("link", name="Ouvrir le volet du DPD"), breach)
    panel = dpd.locator("#gravite")
    expect(panel).to_contain_text("Le calcul attend")  # the script's first refresh, factors still missing
    # The script ran: it hid the button that computes without it (DSFR's .fr-btn still displays it, see the report).
    expect(dpd.locator("#calculer")).to_have_attribute("hidden", "")
    dpd.check("input[name=data_types][value=behavioural]", force=True)
    dpd.select_option("#champ-ease_of_identification", "maximum")
    expect(panel).to_contain_text("SE = ")
    first = panel.inner_text()
    dpd.select_option("#champ-confidentiality", "wide")
    expect(panel).not_to_have_text(first)
    expect(panel).to_contain_text("SE = ")
    dpd.check("input[name=malicious][value=yes]", force=True)
    expect(panel).to_contain_text(re.compile(r"SE = \d"))
    dpd.fill("#champ-nature", "Messages d'élèves lisibles sans authentification après une mise à jour.")
    dpd.fill("#champ-consequences", "Divulgation de messages d'élèves mineurs à des tiers non autorisés.")
    dpd.fill("#champ-measures", "Retour à la version précédente, journaux d'accès conservés.")
    shoot(dpd, "breach-assessment")
    follow(dpd, dpd.get_by_role("button", name="Enregistrer l'évaluation"), f"{breach}?fait=evaluation")
    expect(dpd.get_by_text("C'est enregistré.")).to_be_visible()
    expect(dpd.get_by_role("heading", name="Décision du DPD")).to_be_visible()
    dpd.check("input[name=cnil][value=yes]", force=True)
    dpd.check("input[name=subjects][value=yes]", force=True)
    dpd.fill("#champ-rationale", "Messages d'élèves mineurs exposés : notification et information des familles.")
    follow(dpd, dpd.get_by_role("button", name="Enregistrer la décision"), f"{breach}?fait=decision")
    decided_by = datetime.now(PARIS)  # the decision is recorded by now
    expect(dpd.get_by_role("heading", name="Projets à relire")).to_be_visible()
    drafts = dpd.locator(f"a[href^='/incidents/{ref}/projets/']")
    assert drafts.count() >= 1
    with dpd.expect_download() as download_info:
        drafts.first.click()
    download = download_info.value
    draft = tmp_path / download.suggested_filename
    download.save_as(draft)
    assert draft.suffix == ".txt" and ref in draft.read_text(encoding="utf-8")
    wait_for(lambda: smtp.to(DPD, f"[{ref}] Projets de notification"), "projets envoyés au DPD")
    dpd.fill("#champ-reference", "CNIL-2026-000123")
    # The filing may not precede the decision, to the second, while the field offers minutes only (see the report):
    # typed here with seconds, a whole second after the decision.
    filed_at = decided_by.replace(microsecond=0) + timedelta(seconds=1)
    wait_for(lambda: datetime.now(PARIS) >= filed_at, "une seconde entière après la décision", timeout=2)
    dpd.fill("#champ-filed_at", filed_at.strftime("%Y-%m-%dT%H:%M:%S"))
    follow(dpd, dpd.get_by_role("button", name="Enregistrer le dépôt"), f"{breach}?fait=cnil")
    expect(dpd.get_by_text(re.compile(r"Déposée le .+, référence CNIL-2026-000123"))).to_be_visible()
    shoot(dpd, "breach")

    # (6) The auditor reads the audit file and downloads an export that verifies offline.
    auditor = browsing.sign_in(AUDITOR)
    visit(auditor, f"{url}/incidents/{ref}/audit")
    expect(auditor.get_by_text(re.compile("Chaîne vérifiée"))).to_be_visible()
    shoot(auditor, "audit")
    visit(auditor, f"{url}/incidents")
    follow(auditor, auditor.get_by_role("link", name="Rapports et export"), f"{url}/rapports")
    shoot(auditor, "reports")
    with auditor.expect_download() as download_info:
        auditor.get_by_role("link", name="Télécharger l'export").click()
    export = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(export)
    assert export.suffix == ".jsonl" and ref in export.read_text(encoding="utf-8")
    result = plain_cli("verify", "--export", str(export))
    assert result.exit_code == 0, result.output
    assert "Export intègre" in result.output

    assert browsing.errors == [], "\n".join(browsing.errors)
