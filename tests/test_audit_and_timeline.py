"""A timeline and an audit file for an incident with a late CNIL filing show the lateness exactly."""

import csv
import io
import json

from tests.test_breach_decision import BREACH, DPD, assess
from tests.walkers import declared

LATE = 23 * 3600  # due 26 Oct 11:00, filed 27 Oct 10:00 (Paris), across the autumn DST change


def late_cnil_filing(cli, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-10-23T12:00:00+02:00", at="2026-10-23T13:00:00+02:00",
                   **BREACH)["ref"]
    assess(cli, tmp_path, ref, "2026-10-26T16:00:00+01:00")
    assert cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD,
               "--at", "2026-10-27T09:00:00+01:00").exit_code == 0
    assert cli("cnil-filed", ref, "--filed-at", "2026-10-27T10:00:00+01:00", "--reference", "CNIL-1",
               "--by", DPD, "--at", "2026-10-27T10:00:00+01:00").exit_code == 0
    return ref


def test_timeline_and_audit_show_the_late_cnil_filing_exactly(cli, smtp, tmp_path):
    ref = late_cnil_filing(cli, tmp_path)

    lines = [json.loads(line) for line in cli("timeline", ref, "--format", "jsonl").stdout.splitlines()]
    [met] = [e for e in lines if e["kind"] == "obligation_met" and e["payload"]["obligation"] == "cnil_notification"]
    assert (met["payload"]["late_by_seconds"], met["occurred_at"], met["late"]) == (
        LATE, "2026-10-27T10:00:00+01:00", True)
    assert met["description"] == "Obligation remplie : notification à la CNIL, avec un retard de 23 heures."
    assert all(len(e["hash"]) == 64 and e["recorded_at"] for e in lines)

    table = list(csv.DictReader(io.StringIO(cli("timeline", ref, "--format", "csv").stdout.lstrip("\ufeff")),
                                delimiter=";"))
    [row] = [r for r in table if r["N°"] == str(met["seq"])]
    # In words for a spreadsheet in French settings: the description, the French event, a Paris date, the mark.
    assert (row["Description"], row["Événement"], row["Survenu le (heure de Paris)"], row["Signalement"]) == (
        met["description"], "Obligation remplie", "27/10/2026 10:00:00", "remplie en retard")

    html = cli("timeline", ref, "--format", "html").stdout
    assert "échéance : notification à la CNIL" in html and "remplie en retard (23 heures)" in html

    audit = json.loads(cli("audit", ref, "--format", "json").stdout)
    [cnil] = [o for o in audit["obligations"] if o["kind"] == "cnil_notification"]
    assert (cnil["status"], cnil["due_at"], cnil["met_at"], cnil["late_by_seconds"]) == (
        "late", "2026-10-26T11:00:00+01:00", "2026-10-27T10:00:00+01:00", LATE)
    assert audit["proof"]["chain_ok"] is True
    assert audit["proof"]["last_seq"] == lines[-1]["seq"]
    assert audit["proof"]["last_hash"] == lines[-1]["hash"]
    assert audit["scope"]["proposed"] == "shared" and audit["scope"]["proposed_article"].startswith("Art. 8")
    assert audit["decision"]["decided_by"] == DPD
    assert {m["template"] for m in audit["messages"]} >= {"cross_party_alert", "breach_drafts"}
    audit_html = cli("audit", ref).stdout
    assert "en retard (23 heures)" in audit_html
    assert "Chaîne vérifiée de l'entrée n° 1 à l'entrée n° " in audit_html
