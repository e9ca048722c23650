"""Words a DPD and a mayor's office read: no internal code beside a French label, plurals right (issue 11, in
part: the timeline's breach entries, the alert's categories and people concerned)."""

import json

import yaml

from tests.conftest import ACADEMY_ALERTS, DPD
from tests.test_breach_decision import ASSESSMENT
from tests.walkers import declared


def test_breach_entries_and_the_alert_speak_french_only(cli, smtp, tmp_path):
    at = "2026-11-20T10:00:00+01:00"
    ref = declared(cli, tmp_path, at=at, aware_at="2026-11-20T09:00:00+01:00", personal_data="unknown",
                   categories=["vendor", "personal_data"], data_subjects={"pupils": 27, "staff": 1})["ref"]
    document = tmp_path / "assessment.yaml"
    document.write_text(yaml.safe_dump(ASSESSMENT, allow_unicode=True), encoding="utf-8")
    assert cli("assess", ref, "--file", str(document), "--by", DPD, "--at", at).exit_code == 0
    assert cli("decide", ref, "--cnil", "yes", "--subjects", "no", "--rationale", "Risque limité.", "--by", DPD,
               "--at", at).exit_code == 0

    entries = [line for line in cli("timeline", ref, "--format", "jsonl").stdout.splitlines()]
    described = " ".join(json.loads(line)["description"] for line in entries)
    assert "gravité élevée" in described or "gravité moyenne" in described
    assert "recommandation : notifier la CNIL" in described
    assert "Décision du DPD : notifier la CNIL, ne pas informer les personnes concernées" in described
    for code in ("notify_cnil", "register_only", "(high)", "(medium)", "very_high", "personnes no", "personnes yes"):
        assert code not in described, code

    [alert] = smtp.to(ACADEMY_ALERTS[0])
    assert "27 élèves, 1 personnel" in alert.text and "1 personnels" not in alert.text
    assert "(vendor)" not in alert.text and "prestataire exploitant de l'ENT" in alert.text
