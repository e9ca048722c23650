"""A wrong database URL, parties' file or delivery setting gets one clear French message and a non-zero exit, never a
traceback."""

import pytest


def test_an_unreachable_database_is_named(plain_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'absent' / 'incidents.db'}")
    for command in (("list",), ("verify",), ("show", "INC-2026-0001")):
        result = plain_cli(*command)
        assert result.exit_code == 1, command
        assert result.stderr.startswith("Base de données inaccessible (sqlite:///"), command
        assert "réglée par INCIDENTS_DATABASE_URL" in result.stderr
        assert "Traceback" not in result.output


def test_a_missing_parties_file_is_named_before_any_flow_runs(plain_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("INCIDENTS_CONFIG", str(tmp_path / "parties.yaml"))
    result = plain_cli("watch")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Fichier de configuration des parties illisible : {tmp_path / 'parties.yaml'} "
                                     "(fichier introuvable).")


@pytest.mark.parametrize(("name", "value"), [("INCIDENTS_SMTP_PORT", "abc"), ("INCIDENTS_SMTP_PORT", "99999"),
                                             ("INCIDENTS_SMTP_FALLBACK_TIMEOUT", "inf"),
                                             ("INCIDENTS_CLAIM_LEASE_SECONDS", "-5"),
                                             ("INCIDENTS_CLAIM_LEASE_SECONDS", "1e308")])
def test_a_bad_delivery_setting_is_refused_by_name_before_any_work(plain_cli, monkeypatch, name, value):
    monkeypatch.setenv("INCIDENTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("INCIDENTS_SMTP_FALLBACK_HOST", "127.0.0.1")
    monkeypatch.setenv(name, value)
    result = plain_cli("watch")
    assert result.exit_code == 2
    assert f"Réglage « {name} » invalide" in result.stderr
    assert "Traceback" not in result.output


def test_a_portal_trusting_any_front_is_refused(plain_cli, monkeypatch):
    monkeypatch.setenv("INCIDENTS_PORTAL_TRUSTED_PROXIES", "*")
    result = plain_cli("portal", "--port", "1")
    assert result.exit_code == 2
    assert "INCIDENTS_PORTAL_TRUSTED_PROXIES" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(("section", "name", "value", "said"), [
    ("engine", "follow_up_days", True, "champ « engine.follow_up_days » invalide : doit être un nombre, pas true ou "
                                       "false"),
    ("engine", "follow_up_days", "sept", "champ « engine.follow_up_days » invalide : doit être un nombre entier"),
    ("engine", "escalation_fraction", True, "champ « engine.escalation_fraction » invalide : doit être un nombre, pas "
                                            "true ou false"),
    ("breach", "large_scale_from", 0, "champ « breach.large_scale_from » invalide : nombre trop petit (1 au moins)"),
    ("engine", "reminder_fractions", [float("nan"), 0.5], "champ « engine.reminder_fractions[0] » invalide : doit être "
                                                          "un nombre fini"),
    ("engine", "follow_up_days", "9" * 30, "champ « engine.follow_up_days » invalide : nombre trop grand (366 au "
                                           "plus)"),
    ("engine", "reminder_fractions", [0.5, 0.95], "champ « engine » invalide : les rappels (reminder_fractions) "
                                                  "viennent avant l'escalade (escalation_fraction : 0,9) ; 0,95 ne le "
                                                  "fait pas"),
])
def test_a_number_in_the_parties_file_that_is_no_number_is_named_in_french(plain_cli, monkeypatch, tmp_path, section,
                                                                           name, value, said):
    """YAML reads `true` as a boolean, which pydantic would take for 1: a slip in the parties' file is named."""
    import yaml

    from settings.env import parties_file

    parties = yaml.safe_load(parties_file().read_text(encoding="utf-8"))
    parties.setdefault(section, {})[name] = value
    written = tmp_path / "parties.yaml"
    written.write_text(yaml.safe_dump(parties, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("INCIDENTS_CONFIG", str(written))

    result = plain_cli("watch")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Fichier de configuration des parties {written} : {said}."


def test_a_damaged_database_file_is_named_as_such(plain_cli, monkeypatch, tmp_path):
    """A store file overwritten (a bad copy, a disk fault) or replaced by something else: said in French, no traceback,
    and no claim that anything was written."""
    from models.db import dispose_engines

    declared_store = tmp_path / "incidents.db"
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{declared_store}")
    assert plain_cli("list").exit_code == 0  # the embedded store creates itself
    dispose_engines()  # each command is a process of its own: none keeps the file open from before
    with declared_store.open("r+b") as store:
        store.write(b"\xff" * 4096)  # the header and the schema's page, overwritten
    for command in (("list",), ("verify",), ("show", "INC-2026-0001")):
        result = plain_cli(*command)
        assert result.exit_code == 1, command
        assert result.stderr == ("Registre illisible : fichier de la base endommagé, ou qui n'est pas une base "
                                 "SQLite. Aucune modification n'y a été faite.\n"), command
