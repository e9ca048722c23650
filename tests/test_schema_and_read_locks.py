"""A read never holds a declaration back on SQLite (a long export runs while declarations arrive); the embedded
SQLite store migrates itself, and the schema version the code expects is Alembic's head."""

import threading

import pendulum
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from models.db import MIGRATIONS_DIR, SCHEMA_HEAD, read_scope, schema_version
from reports.export import export_lines
from tests.conftest import AUDITOR, REFERENT, write_declaration


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def test_the_schema_the_code_expects_is_alembics_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def test_an_older_embedded_store_upgrades_itself_on_first_use(plain_cli, tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'older.db'}"
    config = alembic_config()
    with create_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
    assert schema_version(create_engine(url)) == "0008"
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", url)

    listed = plain_cli("list", "--by", AUDITOR)
    assert listed.exit_code == 0, listed.output
    assert schema_version(create_engine(url)) == SCHEMA_HEAD


def test_a_long_export_does_not_hold_declarations_back(cli, smtp, tmp_path) -> None:
    first = cli("declare", str(write_declaration(tmp_path, "first.yaml")), "--by", REFERENT,
              "--at", "2026-11-28T10:00:00+01:00")
    assert first.exit_code == 0, first.output
    reading, finish = threading.Event(), threading.Event()
    exported: list[str] = []

    def long_export() -> None:
        with read_scope() as session:
            lines = export_lines(session, pendulum.now("UTC"))
            exported.append(next(lines))  # the export has begun: its transaction is open
            reading.set()
            finish.wait(120)  # still exporting while the declarations arrive
            exported.extend(lines)

    exporter = threading.Thread(target=long_export)
    exporter.start()
    try:
        assert reading.wait(30)
        for index in range(3):
            result = cli("declare", str(write_declaration(tmp_path, f"d{index}.yaml", title=f"Incident {index}")),
                         "--by", REFERENT, "--at", "2026-11-28T11:00:00+01:00")
            assert result.exit_code == 0, result.output  # not « database is locked »
    finally:
        finish.set()
        exporter.join(60)
    # The export read one snapshot: the declarations made meanwhile are not in it.
    assert sum('"type": "incident"' in line for line in exported) == 1
