"""Formula payloads typed into any field a person fills come out of every CSV (timeline, register) as inert text,
in a file that a spreadsheet in French settings opens as it is (UTF-8 with a byte-order mark, semicolons)."""

import csv
import io

import yaml

from tests.conftest import DPD, REFERENT, TRIAGER
from tests.test_breach_decision import ASSESSMENT, BREACH
from tests.walkers import declared

PAYLOADS = ('=HYPERLINK("http://evil.example","clic")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1")


def cells(text: str) -> list[str]:
    assert text.startswith("\ufeff")
    return [cell for row in csv.reader(io.StringIO(text[1:]), delimiter=";") for cell in row]


def test_formula_payloads_come_out_of_every_csv_inert(cli, smtp, tmp_path):
    at = "2026-11-20T10:00:00+01:00"
    ref = declared(cli, tmp_path, at=at, aware_at="2026-11-20T09:00:00+01:00", title=PAYLOADS[0],
                   description=PAYLOADS[1], reporter={"name": PAYLOADS[2], "email": REFERENT}, **BREACH)["ref"]
    assert cli("triage", ref, "--scope", "academy", "--reason", PAYLOADS[3], "--by", TRIAGER, "--at", at,
               ).exit_code in (0, 1)
    document = tmp_path / "assessment.yaml"
    document.write_text(yaml.safe_dump({**ASSESSMENT, "nature": PAYLOADS[4], "consequences": PAYLOADS[5],
                                        "measures": PAYLOADS[0]}, allow_unicode=True), encoding="utf-8")
    assert cli("assess", ref, "--file", str(document), "--by", DPD, "--at", at).exit_code == 0
    assert cli("decide", ref, "--cnil", "yes", "--subjects", "no", "--rationale", PAYLOADS[1], "--by", DPD,
               "--at", at).exit_code == 0

    exported = cells(cli("timeline", ref, "--format", "csv").stdout) + \
        cells(cli("register", "--format", "csv").stdout)
    carrying = [cell for cell in exported if any(p.strip() in cell for p in PAYLOADS)]
    assert carrying, "the payloads should be in the exports"
    live = [cell for cell in exported if cell[:1] in ("=", "+", "-", "@", "\t", "\r")
            and not cell.lstrip("-").replace(".", "", 1).isdigit()]
    assert live == []
