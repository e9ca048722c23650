"""The auditor downloads the audit file and the steering report as PDF from the portal, where the HTML is offered."""

import pendulum

from tests.conftest import AUDITOR, REFERENT
from tests.portal_client import Browser, declare
from tests.test_report_speaks_french import internal_codes, pdf_text


def test_the_auditor_downloads_the_audit_file_and_the_steering_report_as_pdf():
    ref = declare(REFERENT)
    auditor = Browser(AUDITOR)
    assert f'href="/incidents/{ref}/audit?format=pdf"' in auditor.get(f"/incidents/{ref}").text
    assert 'name="format" value="pdf"' in auditor.get("/rapports").text

    audit = auditor.get(f"/incidents/{ref}/audit?format=pdf")
    assert audit.status_code == 200 and audit.headers["content-type"] == "application/pdf"
    assert audit.headers["content-disposition"].startswith(f'attachment; filename="{ref}-dossier-audit.pdf"')
    text = pdf_text(audit.content)
    assert f"Dossier d'audit — {ref}" in text and "Chaîne vérifiée" in text and internal_codes(text) == []

    today = pendulum.now("Europe/Paris").date()
    first = today.replace(day=1).isoformat()
    steering = auditor.get(f"/rapports/pilotage?du={first}&au={today.isoformat()}&format=pdf")
    assert steering.status_code == 200 and steering.headers["content-type"] == "application/pdf"
    text = pdf_text(steering.content)
    assert "Rapport au comité de pilotage de l'ENT" in text and "Incidents par mois et par champ de compétence" in text
    assert internal_codes(text) == []
