"""The GDPR breach decision end to end: the 72-hour CNIL clock (from `unknown`), the ENISA assessment, the DPD's
decision and its gates, the drafts with every Art. 33(3) element, filings, and the register (Art. 33(5))."""

import json
from pathlib import Path

import yaml

from cli.files import read_document
from models.breach_input import parse_assessment
from tests.conftest import TRIAGER
from tests.store_probe import row_counts
from tests.walkers import declared, obligation, shown, timeline_of

DPD = "dpd@ac-nancy-metz.example.org"
ASSESSMENT = {
    "data_types": ["simple", "behavioural"],
    "ease_of_identification": "maximum",
    "confidentiality": "limited",
    "malicious": True,
    "nature": "Accès non autorisé à la messagerie de l'ENT pendant six heures.",
    "consequences": "Lecture possible de messages entre enseignants et familles.",
    "measures": "Authentification rétablie, sessions invalidées, journaux analysés.",
}
BREACH = {"personal_data": "unknown", "categories": ["vendor", "personal_data"],
          "data_subjects": {"pupils": 240, "staff": 12}, "records": 1800}


def assess(cli, tmp_path, ref, at, **changes):
    path = tmp_path / "assessment.yaml"
    path.write_text(yaml.safe_dump({**ASSESSMENT, **changes}, allow_unicode=True), encoding="utf-8")
    result = cli("assess", ref, "--file", str(path), "--json", "--by", DPD, "--at", at)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def register(cli):
    result = cli("register", "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["ref"]: row for row in json.loads(result.stdout)}


def test_unknown_gets_the_72_hour_clock_across_dst_and_a_late_filing_is_late_with_reasons_for_delay(
        cli, smtp, tmp_path):
    # Aware on Friday 23 October 2026 at 12:00 CEST; the clocks go back on Sunday 25.
    view = declared(cli, tmp_path, aware_at="2026-10-23T12:00:00+02:00", at="2026-10-23T13:00:00+02:00", **BREACH)
    ref = view["ref"]
    cnil = obligation(view, "cnil_notification")
    assert (cnil["owner"], cnil["anchor_at"], cnil["due_at"]) == (
        "academy", "2026-10-23T12:00:00+02:00", "2026-10-26T11:00:00+01:00")

    severity = assess(cli, tmp_path, ref, "2026-10-26T16:00:00+01:00")
    assert (severity["dpc"], severity["ei"], severity["cb"], severity["se"]) == (3, 1.0, 0.75, 3.75)
    assert (severity["level"], severity["recommendation"]) == ("high", "notify_cnil_and_subjects")
    assert "DPC +1 : personnes vulnérables : les élèves sont mineurs → 3." in severity["reasons"]

    decided = cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD,
                  "--delay-reasons", "Le prestataire n'a transmis les journaux que le 26 octobre.",
                  "--at", "2026-10-27T09:00:00+01:00")
    assert decided.exit_code == 0, decided.output
    [draft] = (tmp_path / "var" / "drafts" / ref).glob("*-notification-cnil.txt")
    text = draft.read_text(encoding="utf-8")
    assert "10. Motifs du retard (art. 33(1))" in text
    assert "échu le lundi 26 octobre 2026 à 11h00 (heure de Paris) (retard : 22 heures)" in text
    assert "Le prestataire n'a transmis les journaux que le 26 octobre." in text

    filed = cli("cnil-filed", ref, "--filed-at", "2026-10-27T10:00:00+01:00", "--reference", "CNIL-2026-4711",
                "--by", DPD, "--at", "2026-10-27T10:00:00+01:00")
    assert filed.exit_code == 0, filed.output
    cnil = obligation(shown(cli, ref), "cnil_notification")
    assert (cnil["status"], cnil["met_at"], cnil["late_by_seconds"]) == (
        "late", "2026-10-27T10:00:00+01:00", 23 * 3600)
    assert register(cli)[ref]["cnil_late_by_seconds"] == 23 * 3600

    complementary = cli("cnil-filed", ref, "--filed-at", "2026-10-28T10:00:00+01:00", "--reference",
                        "CNIL-2026-4711-C1", "--complementary", "--by", DPD, "--at", "2026-10-28T10:00:00+01:00")
    assert complementary.exit_code == 0, complementary.output
    assert register(cli)[ref]["complementary_filings"] == [
        {"filed_at": "2026-10-28T10:00:00+01:00", "reference": "CNIL-2026-4711-C1"}]

    redrafted = cli("drafts", ref, "--complementary", "--by", DPD, "--at", "2026-10-28T09:00:00+01:00")
    assert redrafted.exit_code == 0, redrafted.output
    [complement] = (tmp_path / "var" / "drafts" / ref).glob("*-notification-cnil-complementaire.txt")
    text = complement.read_text(encoding="utf-8")
    assert "NOTIFICATION COMPLÉMENTAIRE (RGPD art. 33(4))" in text
    assert "Notification initiale : CNIL-2026-4711, déposée le mardi 27 octobre 2026 à 10h00" in text


def test_the_cnil_clock_is_reminded_to_the_dpd(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    # The académie, alerted, acknowledges the alert (so no reminder to acknowledge is due).
    acknowledged = cli("acknowledge", ref, "--by", TRIAGER, "--at", "2026-11-20T11:00:00+01:00")
    assert acknowledged.exit_code == 0, acknowledged.output

    result = cli("watch", "--json", "--at", "2026-11-21T21:00:00+01:00")  # 36 of 72 hours

    assert json.loads(result.stdout)["steps"] == [
        {"ref": ref, "obligation": "cnil_notification", "step": "reminder_50", "skipped": [], "messages": 1}]
    [reminder] = smtp.to(DPD, "Rappel")
    assert reminder.message["Subject"] == f"[{ref}] Rappel : notification à la CNIL"


def test_the_cnil_owner_follows_the_module_concerned():
    from settings.parties import Breach

    breach = Breach.model_validate({"cnil_owner_by_category": {"vendor": "municipality"}})
    assert breach.cnil_owner_for(["vendor", "personal_data"]) == "municipality"
    assert breach.cnil_owner_for(["directory"]) == "academy"


def test_the_drafts_carry_every_article_33_3_element_and_reach_the_dpd(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    assess(cli, tmp_path, ref, "2026-11-20T15:00:00+01:00")

    result = cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD, "--at", "2026-11-21T09:00:00+01:00")

    assert result.exit_code == 0, result.output
    folder = tmp_path / "var" / "drafts" / ref
    [notification] = folder.glob("*-notification-cnil.txt")
    text = notification.read_text(encoding="utf-8")
    for element in (
        "1. Nature de la violation (art. 33(3)(a))", ASSESSMENT["nature"],
        "Environ 252 personnes : 240 élèves, 12 personnels.", "des élèves mineurs",
        "Environ 1 800 enregistrements.",
        "6. Délégué à la protection des données (art. 33(3)(b))", "Délégué à la protection des données — " + DPD,
        "7. Conséquences probables de la violation (art. 33(3)(c))", ASSESSMENT["consequences"],
        "8. Mesures prises ou envisagées (art. 33(3)(d))", ASSESSMENT["measures"],
    ):
        assert element in text, element
    # Decided and drafted within 72 hours: no delay yet, the item still there for a filing after the deadline.
    assert "Sans objet si la notification est déposée avant le lundi 23 novembre 2026 à 09h00" in text
    [letter] = folder.glob("*-lettre-personnes-concernees.txt")
    letter_text = letter.read_text(encoding="utf-8")
    assert "Ce qui s'est passé" in letter_text and ASSESSMENT["consequences"] not in letter_text
    [mail] = smtp.to(DPD, "Projets de notification")
    assert ASSESSMENT["measures"] not in mail.text  # in the drafts attached, not pasted in the mail
    assert [part.get_filename() for part in mail.message.iter_attachments()] == [
        f"{ref}-notification-cnil.odt", f"{ref}-notification-cnil.docx", f"{ref}-notification-cnil.txt",
        f"{ref}-lettre-personnes-concernees.odt", f"{ref}-lettre-personnes-concernees.docx",
        f"{ref}-lettre-personnes-concernees.txt"]
    subjects = obligation(shown(cli, ref, at="2026-11-21T09:00:00+01:00"), "subjects_communication")
    assert (subjects["status"], subjects["due_at"]) == ("open", "2026-11-24T09:00:00+01:00")

    informed = cli("subjects-informed", ref, "--informed-at", "2026-11-22T09:00:00+01:00", "--channel",
                   "courrier via l'ENT", "--by", DPD, "--at", "2026-11-22T09:00:00+01:00")
    assert informed.exit_code == 0, informed.output
    assert register(cli)[ref]["subjects_channel"] == "courrier via l'ENT"


def test_a_no_without_rationale_is_refused_and_leaves_no_trace(cli, smtp, store, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    assess(cli, tmp_path, ref, "2026-11-20T15:00:00+01:00", data_types=["simple"], malicious=False,
           confidentiality="none", vulnerable_subjects=False)
    before_timeline, before_rows = timeline_of(cli, ref), row_counts(store)

    refused = cli("decide", ref, "--cnil", "no", "--subjects", "no", "--by", DPD)

    assert refused.exit_code == 1
    assert "doit être motivée (--rationale)" in refused.stderr
    assert timeline_of(cli, ref) == before_timeline
    assert row_counts(store) == before_rows
    assert register(cli)[ref]["decided_at"] is None


def test_a_reasoned_no_is_on_the_timeline_and_in_the_register_which_lists_the_unnotified_breach(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    assess(cli, tmp_path, ref, "2026-11-20T15:00:00+01:00", data_types=["simple"], malicious=False,
           confidentiality="none", vulnerable_subjects=False)
    rationale = "Aucune donnée consultée d'après les journaux : risque improbable (RGPD art. 33(1))."

    result = cli("decide", ref, "--cnil", "no", "--subjects", "no", "--by", DPD, "--rationale", rationale,
                 "--at", "2026-11-21T09:00:00+01:00")

    assert result.exit_code == 0, result.output
    decision = [e for e in timeline_of(cli, ref) if e["kind"] == "breach_decided"]
    assert [(e["actor"], e["payload"]["notify_cnil"], e["payload"]["rationale"]) for e in decision] == [
        (DPD, False, rationale)]
    assert obligation(shown(cli, ref), "cnil_notification")["status"] == "not_required"
    row = register(cli)[ref]
    assert (row["notify_cnil"], row["rationale"], row["decided_by"], row["level"]) == (False, rationale, DPD, "low")
    assert row["cnil_filed_at"] is None
    html = cli("register", "--format", "html").stdout
    assert ref in html and rationale.replace("'", "&#39;") in html
    csv_text = cli("register", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("\ufeffRéférence;État;Commune (INSEE)")  # French spreadsheet
    assert ref in csv_text


def test_the_decision_gates_name_the_field(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    no_assessment = cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD)
    assert no_assessment.exit_code == 1
    assert no_assessment.stderr.strip() == (
        "Refusé (RG-DOOR-10, décider de la notification à la CNIL et de l'information des personnes) : état de la "
        f"violation de données de {ref} : pas encore évaluée.")
    assess(cli, tmp_path, ref, "2026-11-20T15:00:00+01:00")
    not_dpd = cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", TRIAGER)
    assert not_dpd.exit_code == 1
    assert not_dpd.stderr.strip() == (
        "Refusé (RG-DOOR-10, décider de la notification à la CNIL et de l'information des personnes) : "
        f"{TRIAGER} n'a pas le rôle requis (délégué à la protection des données).")
    exempt = cli("decide", ref, "--cnil", "yes", "--subjects", "exempt", "--by", DPD, "--rationale", "x")
    assert exempt.exit_code == 2 and "champ « --exemption »" in exempt.stderr


def test_personal_data_learnt_later_opens_the_clock_and_a_no_data_incident_is_not_in_the_register(cli, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00")["ref"]
    assert register(cli) == {}
    assert [o["kind"] for o in shown(cli, ref)["obligations"]] == ["cross_party_alert", "follow_up"]

    result = cli("personal-data", ref, "--value", "yes", "--aware-at", "2026-11-21T08:00:00+01:00",
                 "--by", DPD, "--at", "2026-11-21T09:00:00+01:00")

    assert result.exit_code == 0, result.output
    assert obligation(shown(cli, ref), "cnil_notification")["due_at"] == "2026-11-24T08:00:00+01:00"
    assert list(register(cli)) == [ref]


def test_example_assessment_file_is_accepted():
    example = Path(__file__).resolve().parents[1] / "examples" / "assessment.yaml"
    assert parse_assessment(read_document(example)).data_types == ["simple", "behavioural"]
