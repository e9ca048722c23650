"""What a tester broke, kept broken-proof: text that no document can hold is refused by name; the académie, not the
commune, hears that its DPD's drafts did not get through; a reference of undecodable bytes is simply not found."""

import json

import pytest

from models.bounds import text_defect
from tests.conftest import ACADEMY_ESCALATION, AUDITOR, MUNICIPALITY_ESCALATION
from tests.test_breach_decision import BREACH, DPD, assess
from tests.walkers import declared


@pytest.mark.parametrize("character", ["\ufffe", "\uffff", "\ufdd0", "\U0010ffff", "\u202e", "\u2066"])
def test_noncharacters_and_direction_overrides_are_refused(character: str) -> None:
    assert text_defect(f"A{character}B", 100) is not None


@pytest.mark.parametrize("text", ["Élève 👩‍👧 inscrit", "Ligne simple", "مدرسة"])
def test_ordinary_text_in_any_script_passes(text: str) -> None:
    assert text_defect(text, 100) is None


def test_an_assessment_no_draft_could_hold_is_refused_by_name(cli, smtp, tmp_path) -> None:
    ref = declared(cli, tmp_path, **BREACH)["ref"]
    path = tmp_path / "assessment.yaml"
    path.write_text("data_types: [simple]\nease_of_identification: limited\nnature: \"A\\uFFFEB\"\n",
                    encoding="utf-8")
    result = cli("assess", ref, "--file", str(path), "--by", DPD, "--at", "2026-11-28T12:00:00+01:00")
    assert result.exit_code == 2
    assert "nature" in result.output and "caractère non textuel interdit" in result.output


def test_the_academy_hears_when_its_dpds_drafts_are_refused(cli, smtp, tmp_path) -> None:
    ref = declared(cli, tmp_path, aware_at="2026-11-28T09:00:00+01:00", at="2026-11-28T10:00:00+01:00",
                   **BREACH)["ref"]
    assess(cli, tmp_path, ref, "2026-11-28T11:00:00+01:00")
    smtp.too_large = 1  # the drafts mail, next to leave, is refused for good (552)
    decided = cli("decide", ref, "--cnil", "yes", "--subjects", "no", "--rationale", "Risque réel.", "--by", DPD,
                  "--at", "2026-11-28T12:00:00+01:00")
    assert decided.exit_code == 0, decided.output
    assert cli("watch", "--at", "2026-11-28T12:05:00+01:00").exit_code == 0

    def failure_notices(address: str) -> list[str]:
        return [str(m.message["Subject"]) for m in smtp.to(address) if DPD in str(m.message["Subject"])]

    assert failure_notices(ACADEMY_ESCALATION), [str(m.message["Subject"]) for m in smtp.to(ACADEMY_ESCALATION)]
    assert failure_notices(MUNICIPALITY_ESCALATION) == []


def test_a_reference_of_undecodable_bytes_is_not_found(plain_cli) -> None:
    result = plain_cli("show", "\udcff\udcfe", "--by", AUDITOR)
    assert result.exit_code == 1
    assert "Aucun incident ne porte la référence" in result.output


def test_a_pass_run_by_another_communes_referent_names_none_of_this_communes_incidents(cli, smtp, tmp_path) -> None:
    """A commune's referent may run a pass (it acts for the engine), but learns of no other commune's incident: not
    its reference, nor that it carries a CNIL clock."""
    ref = declared(cli, tmp_path, at="2026-11-28T10:00:00+01:00", **BREACH)["ref"]
    other = "numerique@montigny-sur-exemple.example.org"
    late = "2026-12-01T12:00:00+01:00"  # every clock of the incident is past due: the pass takes steps for it

    seen_by_other = cli("watch", "--json", "--at", late, "--by", other)
    assert seen_by_other.exit_code == 0, seen_by_other.output
    assert ref not in seen_by_other.output
    assert json.loads(seen_by_other.stdout)["steps"] == []

    assert json.loads(seen_by_other.stdout)["delivered"] > 0  # it did act for that incident: its overdue notices
