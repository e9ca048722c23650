"""Follow-ups (Art. 4.2): due every 7 days and reminded; closure refused while an obligation is open, allowed
after, with the final report received by both parties. A dismissed declaration stays on record."""

import json
from pathlib import Path

import yaml

from cli.files import read_document
from models.reports_input import parse_closure, parse_follow_up
from tests.conftest import ACADEMY_ALERTS, MUNICIPALITY_REFERENT, REFERENT, TRIAGER
from tests.walkers import declared, obligation, shown, timeline_of

T0 = "2026-11-02T10:00:00+01:00"
FOLLOW_UP = {"done": "Le prestataire a restauré l'authentification.", "planned": "Audit des journaux d'accès.",
             "impact": "Aucun accès constaté à ce stade."}
CLOSURE = {"summary": "Authentification rétablie, aucun accès illégitime.", "measures": "Tests de non-régression."}


def write(folder, name, data):
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def watch(cli, at):
    result = cli("watch", "--json", "--at", at)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_follow_up_reminded_recorded_then_closure_refused_then_allowed(cli, smtp, tmp_path):
    smtp.defer.add(ACADEMY_ALERTS[0])  # the alert cannot reach the académie yet
    ref = declared(cli, tmp_path, at=T0, aware_at="2026-11-02T09:00:00+01:00")["ref"]
    follow_up = obligation(shown(cli, ref), "follow_up")
    assert (follow_up["owner"], follow_up["due_at"]) == ("municipality", "2026-11-09T10:00:00+01:00")

    refused = cli("close", ref, "--file", write(tmp_path, "closure.yaml", CLOSURE), "--by", MUNICIPALITY_REFERENT,
                  "--at", "2026-11-02T11:00:00+01:00")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (f"Clôture refusée : une obligation reste ouverte pour {ref} : l'alerte de "
                                      "l'autre partie (échéance 04/11/2026 09:00).")
    assert "closed" not in [e["kind"] for e in timeline_of(cli, ref)]

    smtp.defer.clear()
    watch(cli, "2026-11-02T12:00:00+01:00")
    assert obligation(shown(cli, ref))["status"] == "met"
    # The académie, alerted, acknowledges the alert (so no reminder to acknowledge is due).
    acknowledged = cli("acknowledge", ref, "--by", TRIAGER, "--at", "2026-11-02T13:00:00+01:00")
    assert acknowledged.exit_code == 0, acknowledged.output

    # Day 3.5 of 7: the municipality, which handles this incident, is reminded of the follow-up it owes.
    steps = watch(cli, "2026-11-05T22:00:00+01:00")["steps"]
    assert steps == [{"ref": ref, "obligation": "follow_up", "step": "reminder_50", "skipped": [], "messages": 1}]
    [reminder] = smtp.to(MUNICIPALITY_REFERENT, "Rappel")
    assert reminder.message["Subject"] == f"[{ref}] Rappel : point de suivi à l'autre partie"

    result = cli("follow-up", ref, "--file", write(tmp_path, "update.yaml", FOLLOW_UP),
                 "--by", MUNICIPALITY_REFERENT, "--at", "2026-11-06T09:00:00+01:00")
    assert result.exit_code == 0, result.output
    for address in ACADEMY_ALERTS:
        [mail] = smtp.to(address, "Point de suivi")
        assert "Le prestataire a restauré l'authentification." in mail.text
        assert "Audit des journaux d'accès." in mail.text
    follow_ups = [o for o in shown(cli, ref, at="2026-11-06T09:00:00+01:00")["obligations"] if o["kind"] == "follow_up"]
    assert [(o["status"], o["due_at"]) for o in follow_ups] == [
        ("met", "2026-11-09T10:00:00+01:00"), ("open", "2026-11-13T09:00:00+01:00")]

    closed = cli("close", ref, "--file", write(tmp_path, "closure.yaml", CLOSURE), "--by", MUNICIPALITY_REFERENT,
                 "--at", "2026-11-07T09:00:00+01:00")
    assert closed.exit_code == 0, closed.output
    for address in [*ACADEMY_ALERTS, MUNICIPALITY_REFERENT]:
        [report] = smtp.to(address, "Rapport final")
        assert "Authentification rétablie, aucun accès illégitime." in report.text
        # The same building blocks as the audit file: the obligations, and the timeline attached.
        assert "alerte de l'autre partie (collectivité) : échéance mercredi 4 novembre 2026 à 09h00 (heure de " \
               "Paris) — remplie dans le délai" in report.text
        [timeline] = report.message.iter_attachments()
        assert "Incident déclaré par la collectivité" in timeline.get_payload(decode=True).decode("utf-8")
    view = shown(cli, ref)
    assert (view["status"], view["closed_at"]) == ("closed", "2026-11-07T09:00:00+01:00")
    assert [o["status"] for o in view["obligations"]] == ["met", "met", "met"]
    received = len(smtp.received)
    assert watch(cli, "2026-11-30T09:00:00+01:00")["steps"] == []
    assert len(smtp.received) == received


def test_dismissed_declaration_stays_on_record_and_nothing_more_is_sent(cli, smtp, tmp_path):
    smtp.defer.update(ACADEMY_ALERTS)
    ref = declared(cli, tmp_path, at=T0, aware_at="2026-11-02T09:00:00+01:00")["ref"]

    blank = cli("dismiss", ref, "--reason", "   ", "--by", TRIAGER)
    assert blank.exit_code == 2
    assert "champ « --reason » : ne doit pas être vide" in blank.stderr
    result = cli("dismiss", ref, "--reason", "Doublon de INC-2026-0042", "--by", TRIAGER,
                 "--at", "2026-11-02T11:00:00+01:00")
    assert result.exit_code == 0, result.output

    smtp.defer.clear()
    assert watch(cli, "2026-11-10T09:00:00+01:00")["steps"] == []
    # Only the declarant's receipt, which left at the declaration, before the dismissal.
    assert [r for mail in smtp.received for r in mail.recipients] == [REFERENT]
    view = shown(cli, ref)
    assert view["status"] == "dismissed"
    assert {o["status"] for o in view["obligations"]} == {"not_required"}
    assert {(m["template"], m["status"]) for m in view["messages"]} == {("cross_party_alert", "cancelled"),
                                                                         ("declaration_receipt", "sent")}
    assert [v["ref"] for v in json.loads(cli("list", "--json").stdout)] == [ref]
    assert timeline_of(cli, ref)[-1]["payload"]["reason"] == "Doublon de INC-2026-0042"


def test_the_example_files_of_the_readme_are_accepted():
    root = Path(__file__).resolve().parents[1] / "examples"
    assert set(parse_follow_up(read_document(root / "follow-up.yaml"))) == {"done", "planned", "impact"}
    assert parse_closure(read_document(root / "closure.yaml"))["residual_risk"] == "Faible."
