"""A command that runs a flow itself, Prefect's server reachable but nobody serving the deployment (no service, no
worker online), says so in French; Prefect's English progress lines stay off the terminal (its server keeps them)."""

from tests.conftest import ACADEMY_ALERTS, REFERENT, write_declaration
from tests.subprocess_cli import run


def test_declare_and_watch_run_here_and_say_so_in_french(smtp, prefect_api, tmp_path):
    user = {"PREFECT_API_URL": prefect_api, "PREFECT_LOGGING_LEVEL": "INFO"}  # Prefect's default, not the tests'
    declared = run("declare", str(write_declaration(tmp_path)), "--by", REFERENT, "--at", "2026-11-28T10:00:00+01:00",
                   **user)
    assert declared.returncode == 0, declared.stderr
    assert declared.stderr.splitlines()[0] == ("Aucun service ni worker ne prend ce travail en ce moment : il est fait "
                                               "par cette commande, suivi par le serveur Prefect.")
    for english in ("| INFO", "Beginning flow run", "Finished in state", "View at"):
        assert english not in declared.stderr, declared.stderr
    assert sorted(r for mail in smtp.received for r in mail.recipients) == sorted([*ACADEMY_ALERTS, REFERENT])

    passed = run("watch", "--at", "2026-11-28T11:00:00+01:00", **user)
    assert passed.returncode == 0, passed.stderr
    assert "| INFO" not in passed.stderr and "Finished in state" not in passed.stderr, passed.stderr
