"""The timeline marks only what went wrong (a deadline missed, a failure), never an escalation before the deadline;
the terminal timeline shows both instants in Paris time, the actor and the party, in the order things happened; the
audit file is also a PDF, carrying the ref, the obligations and the verified chain; no code of the engine in any of
them; a PDF is never written to a terminal, and a machine without WeasyPrint says so in French."""

import json
import os
import pty
import re
import subprocess
import sys

import pendulum
import pytest

from tests.conftest import ACADEMY_REPORTER, DPD, MUNICIPALITY_REFERENT, TRIAGER
from tests.subprocess_cli import INCIDENTS
from tests.test_audit_and_timeline import late_cnil_filing
from tests.test_report_speaks_french import html_text, internal_codes, pdf_text
from tests.walkers import declared

AWARE = "2026-10-24T10:00:00+02:00"
AT_90 = "2026-10-26T04:12:00+01:00"  # 90 % of the 48-hour alert clock: the escalation
AT_DUE = "2026-10-26T09:00:00+01:00"  # the deadline: the overdue notice


@pytest.fixture
def escalated_then_overdue(cli, smtp, tmp_path):
    """The académie declares; the commune's mailbox answers "try later": the alert is escalated, then overdue."""
    smtp.defer.add(MUNICIPALITY_REFERENT)
    ref = declared(cli, tmp_path, declared_by="academy", categories=["directory"], reporter=ACADEMY_REPORTER,
                   aware_at=AWARE, at="2026-10-24T10:30:00+02:00")["ref"]
    for at in (AT_90, AT_DUE):
        assert cli("watch", "--at", at).exit_code == 0
    return ref


def items(html):
    """Each timeline item of the HTML page: (its classes, its text)."""
    return [(classes, html_text(body)) for classes, body in
            re.findall(r'<div class="item([^"]*)">(.*?)\n  </div>', html, flags=re.S)]


def test_an_escalation_before_the_deadline_is_not_marked_late(cli, escalated_then_overdue):
    html = cli("timeline", escalated_then_overdue, "--format", "html").stdout
    [escalation] = [(classes, text) for classes, text in items(html) if "Escalade mise en file d'envoi" in text]
    assert escalation[0] == "" and "badge" not in escalation[1]
    assert escalation[1].startswith("lundi 26 octobre 2026 à 04h12 (heure de Paris) — Escalade Escalade mise en "
                                    "file d'envoi, avant l'échéance : alerte de l'autre partie (escalade à 90 % du "
                                    "délai).")
    [overdue] = [(classes, text) for classes, text in items(html) if text.count("Échéance dépassée :") == 1]
    assert overdue[0] == " late" and "— Échéance dépassée échéance dépassée Échéance dépassée : alerte" in overdue[1]
    assert internal_codes(html_text(html)) == []


def test_the_text_timeline_shows_both_instants_the_actor_and_the_party_in_order(cli, escalated_then_overdue):
    ref = escalated_then_overdue
    entries = json.loads(cli("timeline", ref, "--json").stdout)
    text = cli("timeline", ref).stdout
    assert text.startswith(f"Chronologie de l'incident {ref} — {len(entries)} entrées, heures de Paris, dans "
                           "l'ordre où les faits se sont produits.\n\n")
    blocks = text.strip().split("\n\n")[1:]
    assert len(blocks) == len(entries)

    def paris(value):
        return pendulum.parse(value).in_timezone("Europe/Paris").format("DD/MM/YYYY [à] HH:mm:ss")

    ordered = sorted(entries, key=lambda e: (pendulum.parse(e["occurred_at"]), e["seq"]))
    parties = {"academy": "académie", "municipality": "collectivité", "engine": "moteur"}
    for block, entry in zip(blocks, ordered, strict=True):
        first, recorded, _, chain = block.split("\n")
        assert first.startswith(f"{paris(entry['occurred_at'])}  ")
        assert recorded == (f"    consigné le {paris(entry['recorded_at'])} · par {entry['actor']} "
                            f"({parties[entry['party']]})")
        assert chain == f"    entrée n° {entry['seq']} · empreinte {entry['hash'][:16]}…"
    assert blocks[0].split("\n")[0] == "24/10/2026 à 10:30:00  Déclaration enregistrée"
    assert blocks[0].split("\n")[1].endswith(f" · par {TRIAGER} (académie)")
    [escalation] = [block for block in blocks if "Escalade" in block.split("\n")[0]]
    assert escalation.split("\n")[0] == "26/10/2026 à 04:12:00  Escalade"
    [overdue] = [block for block in blocks if block.split("\n")[0].endswith("[échéance dépassée]")]
    assert overdue.split("\n")[0] == "26/10/2026 à 09:00:00  Échéance dépassée [échéance dépassée]"
    assert "· par moteur (académie)" in overdue and internal_codes(text) == []


def test_the_audit_file_pdf_carries_the_ref_the_obligations_and_the_verified_chain(cli, smtp, tmp_path):
    ref = late_cnil_filing(cli, tmp_path)
    html = cli("audit", ref).stdout
    target = tmp_path / "audit.pdf"
    result = cli("audit", ref, "--format", "pdf", "--output", str(target))
    assert result.exit_code == 0, result.output
    text = pdf_text(target.read_bytes())
    for words in (f"Dossier d'audit — {ref}", "alerte de l'autre partie", "notification à la CNIL",
                  "information des personnes concernées", "remplie en retard (23 heures)",
                  "Chaîne vérifiée de l'entrée n° 1", "gravité", "Obligation remplie : notification à la CNIL, avec un "
                  "retard de 23 heures."):
        assert words in text, words
    assert internal_codes(text) == [] and internal_codes(html_text(html)) == []
    register = cli("register", "--format", "html", "--by", DPD).stdout
    assert ref in register and internal_codes(html_text(register)) == []


def test_a_pdf_is_not_written_to_a_terminal(tmp_path):
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([INCIDENTS, "report", "steering", "--from", "2026-09-01", "--to", "2026-11-30",
                               "--format", "pdf"], stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE,
                              text=True, timeout=120, env=os.environ.copy())
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert done.stderr == ("Refusé : champ « --output » : un PDF ne s'affiche pas dans un terminal ; indiquez le "
                           "fichier à écrire (par exemple --output rapport.pdf) ou redirigez la sortie vers un "
                           "fichier.\n")


def test_without_weasyprint_the_pdf_is_refused_in_french(plain_cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if it could not be imported
    target = tmp_path / "pilotage.pdf"
    result = plain_cli("report", "steering", "--from", "2026-09-01", "--to", "2026-11-30", "--format", "pdf",
                       "--output", str(target))
    assert result.exit_code == 1 and not target.exists()
    assert result.stderr == ("Le PDF ne peut pas être produit : le module Python « weasyprint » n'est pas installé "
                             "(uv sync l'installe).\n")


def test_a_missing_system_library_is_named():
    from reports.pdf import _missing

    error = OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")
    assert _missing(error) == (
        "Le PDF ne peut pas être produit : WeasyPrint ne trouve pas la bibliothèque système « libpango-1.0-0 ». "
        "Installez les paquets libpango-1.0-0, libpangoft2-1.0-0 et libharfbuzz0b (Debian, Ubuntu), puis "
        "recommencez ; les formats HTML et JSON restent disponibles.")
