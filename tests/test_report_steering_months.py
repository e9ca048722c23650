"""The steering report over September–November, with incidents in September and November only: every month of the
period appears, October with zero, in JSON, Markdown, HTML and PDF; a dismissed duplicate is counted apart, in no
count by scope nor in any on-time figure; and no code of the engine shows in what people read."""

import json
import re

import pytest
from typer.testing import CliRunner

from tests.conftest import ACADEMY_REPORTER, TRIAGER, Cli
from tests.seed import module_store, use_store
from tests.test_report_speaks_french import html_text, internal_codes, pdf_text
from tests.walkers import declared

PERIOD = ("report", "steering", "--from", "2026-09-01", "--to", "2026-11-30")
MONTHS = ["2026-09", "2026-10", "2026-11"]
ZERO = {"academy": 0, "shared": 0, "municipality": 0, "pending": 0}


@pytest.fixture(scope="module")
def three_months_store(tmp_path_factory):
    """A commune's incident in September, an académie incident in November, and a November duplicate dismissed."""
    folder = tmp_path_factory.mktemp("three-months")
    with module_store(folder):
        cli = Cli(CliRunner())
        september = declared(cli, folder, categories=["vendor"], aware_at="2026-09-10T09:00:00+02:00",
                             at="2026-09-10T10:00:00+02:00")["ref"]
        declared(cli, folder, declared_by="academy", categories=["directory"], reporter=ACADEMY_REPORTER,
                 aware_at="2026-11-05T09:00:00+01:00", at="2026-11-05T10:00:00+01:00")
        duplicate = declared(cli, folder, categories=["governance"], aware_at="2026-11-06T09:00:00+01:00",
                             at="2026-11-06T10:00:00+01:00")["ref"]
        dismissed = cli("dismiss", duplicate, "--reason", f"Doublon de {september}", "--by", TRIAGER,
                        "--at", "2026-11-06T12:00:00+01:00")
        assert dismissed.exit_code == 0, dismissed.output
    return folder, duplicate


@pytest.fixture
def three_months(three_months_store, monkeypatch):
    folder, duplicate = three_months_store
    use_store(monkeypatch, folder)
    return folder, duplicate


def test_every_month_of_the_period_is_in_the_json_october_with_zero(three_months, plain_cli):
    _, duplicate = three_months
    result = plain_cli(*PERIOD, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["by_month"] == {
        "2026-09": {"label": "septembre 2026", "incidents": 1, "by_scope": ZERO | {"municipality": 1}, "dismissed": 0},
        "2026-10": {"label": "octobre 2026", "incidents": 0, "by_scope": ZERO, "dismissed": 0},
        "2026-11": {"label": "novembre 2026", "incidents": 1, "by_scope": ZERO | {"academy": 1}, "dismissed": 1},
    }
    assert (report["declarations"], report["incidents"], report["dismissed"], report["dismissed_refs"]) == (
        3, 2, 1, [duplicate])
    # The dismissed duplicate was « shared »: it is in no count by scope, category or commune, nor in any clock.
    assert report["by_scope"] == ZERO | {"academy": 1, "municipality": 1}
    assert report["by_category"] == {"directory": 1, "vendor": 1}
    assert report["labels"]["scopes"]["shared"] == "champ de compétence partagé entre l'académie et la collectivité"
    assert report["labels"]["categories"]["vendor"] == "prestataire exploitant de l'ENT"
    assert (report["alerts"]["total"], report["alerts"]["on_time"]) == (2, 2)
    assert sum(counts["total"] for counts in report["on_time_by_kind"].values()) == 4  # alert and follow-up, twice


def test_the_markdown_has_three_months_in_french_and_the_dismissed_apart(three_months, plain_cli):
    markdown = plain_cli(*PERIOD, "--format", "md").stdout
    assert ("| Mois | Champ de compétence exclusif de l'académie | Champ de compétence partagé entre l'académie et "
            "la collectivité | Champ de compétence exclusif de la collectivité | Portée pas encore proposée | "
            "Incidents | Déclarations écartées |") in markdown
    assert "| septembre 2026 | 0 | 0 | 1 | 0 | 1 | 0 |" in markdown
    assert "| octobre 2026 | 0 | 0 | 0 | 0 | 0 | 0 |" in markdown
    assert "| novembre 2026 | 1 | 0 | 0 | 0 | 1 | 1 |" in markdown
    assert "| Déclarations écartées (doublons, hors du champ de l'ENT) | 1 : INC-" in markdown
    assert internal_codes(markdown) == []


def test_the_html_has_three_months_in_french_and_the_dismissed_apart(three_months, plain_cli):
    html = plain_cli(*PERIOD).stdout
    table = html[html.index('id="table-per-month"'):]
    table = table[:table.index("</table>")]
    rows = [re.findall(r"<td>([^<]*)</td>", row) for row in table.split("<tr>")[2:]]
    assert rows == [["septembre 2026", "0", "0", "1", "0", "1", "0"], ["octobre 2026", "0", "0", "0", "0", "0", "0"],
                    ["novembre 2026", "1", "0", "0", "0", "1", "1"]]
    text = html_text(html)
    assert "Déclarations écartées (doublons, hors du champ de l'ENT) 1 : INC-" in text
    assert "Champ de compétence exclusif de l'académie : 1 Champ de compétence partagé entre l'académie et la " \
           "collectivité : 0" in text
    assert "Prestataire exploitant de l'ENT : 1" in text
    assert internal_codes(text) == []


def test_the_pdf_carries_the_months_headings_and_charts_without_codes(three_months, plain_cli, tmp_path):
    target = tmp_path / "pilotage.pdf"
    result = plain_cli(*PERIOD, "--format", "pdf", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Écrit : {target}\n"
    pdf = target.read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for words in ("Rapport au comité de pilotage de l'ENT", "En bref", "Incidents par mois",
                  "Déclarations écartées", "Échéances tenues par obligation", "Répartition des incidents",
                  "septembre 2026", "octobre 2026", "novembre 2026",
                  # The charts' titles and axis labels: the charts are in, as text.
                  "Incidents par mois et par champ de compétence", "Délai de l'alerte de l'autre partie",
                  "heures entre la prise de connaissance et l'alerte", "Échéances tenues, par obligation",
                  "part des obligations remplies dans le délai (%)"):
        assert words in text, words
    assert internal_codes(text) == []
