"""A declaration's « à déterminer » becomes « oui » everywhere once the DPD has assessed the breach: the audit file,
the register and `show` never contradict the DPD's decision."""

from tests.conftest import AUDITOR
from tests.test_breach_decision import BREACH, DPD, assess
from tests.walkers import declared


def test_unknown_reads_yes_once_the_dpd_assessed(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-28T09:00:00+01:00", at="2026-11-28T10:00:00+01:00",
                   **BREACH)["ref"]
    before = cli("show", ref, "--by", AUDITOR).output
    assert "Données personnelles : à déterminer" in before

    assess(cli, tmp_path, ref, "2026-11-28T12:00:00+01:00")
    assert "Données personnelles : oui" in cli("show", ref, "--by", AUDITOR).output
    assert "données personnelles : oui" in cli("audit", ref, "--by", AUDITOR).output
    register = cli("register", "--format", "html", "--by", DPD).output
    assert "données personnelles : oui" in register and "à déterminer" not in register
