"""A wrong database URL or parties' file gets one clear French message and a non-zero exit, never a traceback."""


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
                                     "(No such file or directory).")
