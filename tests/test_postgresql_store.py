"""The same code on PostgreSQL, started from its binaries: migrations, the whole declaration path, the breach
decision, reports and the chain; concurrent declarations get distinct references and one unbroken chain."""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pendulum
import psycopg
import pytest

from models.commands import Declare
from models.db import SCHEMA_HEAD, session_scope
from models.declaration import parse_declaration
from models.door import execute
from models.store_mode import mark_as_simulation
from models.timeline import verify_chain
from settings.parties import load_parties
from tests.conftest import AUDITOR, BASE_DECLARATION, REFERENT, TRIAGER, free_port
from tests.seed import REFERENTS
from tests.subprocess_cli import INCIDENTS, run, start
from tests.test_breach_decision import BREACH, DPD, assess
from tests.test_cli_start_up import probe
from tests.test_plain_reads_match_the_orm_and_keep_the_gate import assert_plain_rows_are_the_orms
from tests.walkers import declared, obligation, shown

pytestmark = pytest.mark.slow  # PostgreSQL started from its binaries
MONTIGNY = REFERENTS["57999"]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    assert initdb and pg_ctl, "the PostgreSQL server binaries (initdb, pg_ctl) must be on PATH"
    folder = Path(tempfile.mkdtemp(prefix="incidents-pg-"))
    # initdb refuses to run as root: run the server as an unprivileged user then.
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(folder, "nobody")
    data, port = folder / "data", free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "start", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"],
                   check=True, capture_output=True)
    try:
        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as db:
            db.execute("CREATE DATABASE incidents")
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/incidents"
        upgraded = subprocess.run([INCIDENTS, "db", "upgrade"], env={**os.environ, "INCIDENTS_DATABASE_URL": url},
                                  capture_output=True, text=True, timeout=120)
        assert upgraded.returncode == 0, upgraded.stderr  # the operator's one step before any command
        yield url
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def on_postgres(postgres, monkeypatch):
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", postgres)
    with psycopg.connect(postgres.replace("postgresql+psycopg", "postgresql"), autocommit=True) as db:
        tables = [row[0] for row in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                               "AND tablename <> 'alembic_version'")]
        if tables:
            db.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            db.execute("INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, %s)", ("0" * 64,))
    with session_scope() as session:  # a simulation store, as every test store (tests/conftest.py): --at replays
        mark_as_simulation(session)
    return postgres


def test_declare_triage_watch_decide_and_report_on_postgresql(on_postgres, cli, smtp, tmp_path):
    view = declared(cli, tmp_path, aware_at="2026-10-23T12:00:00+02:00", at="2026-10-23T13:00:00+02:00", **BREACH)
    ref = view["ref"]
    assert obligation(view)["status"] == "met" and len(smtp.received) == 3  # two alerts and the receipt
    assert obligation(view, "cnil_notification")["due_at"] == "2026-10-26T11:00:00+01:00"
    # The académie, alerted, acknowledges the alert (so no reminder to acknowledge is due).
    assert cli("acknowledge", ref, "--by", TRIAGER, "--at", "2026-10-23T14:00:00+02:00").exit_code == 0
    assert cli("triage", ref, "--scope", "shared", "--by", TRIAGER).exit_code == 0
    steps = json.loads(cli("watch", "--json", "--at", "2026-10-25T01:00:00+02:00").stdout)["steps"]
    assert [(s["obligation"], s["step"]) for s in steps] == [("cnil_notification", "reminder_50")]
    assess(cli, tmp_path, ref, "2026-10-24T12:00:00+02:00")
    assert cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD,
               "--at", "2026-10-25T09:00:00+01:00").exit_code == 0
    assert cli("cnil-filed", ref, "--filed-at", "2026-10-27T10:00:00+01:00", "--reference", "CNIL-PG",
               "--by", DPD, "--at", "2026-10-27T10:00:00+01:00").exit_code == 0
    assert obligation(shown(cli, ref), "cnil_notification")["late_by_seconds"] == 23 * 3600

    report = json.loads(cli("report", "steering", "--from", "2026-10-01", "--to", "2026-10-31",
                            "--format", "json").stdout)
    assert (report["incidents"], report["cnil"]["filings_late"]) == (1, [{"ref": ref, "late_by_seconds": 82800}])
    assert cli("verify").exit_code == 0
    archive = tmp_path / "archive.jsonl"
    assert cli("export", "-o", str(archive)).exit_code == 0
    assert cli("verify", "--export", str(archive)).exit_code == 0


def test_concurrent_declarations_get_distinct_references_and_one_chain(on_postgres):
    parties = load_parties()
    referent = parties.person(REFERENT)
    assert referent is not None
    now = pendulum.parse("2026-11-28T10:00:00+01:00")

    def one(_: int) -> str:
        with session_scope() as session:
            declaration = parse_declaration(dict(BASE_DECLARATION), parties, now)
            return execute(session, Declare(declaration), referent, now, parties).ref

    with ThreadPoolExecutor(max_workers=8) as pool:
        refs = list(pool.map(one, range(24)))

    assert sorted(refs) == [f"INC-2026-{n:04d}" for n in range(1, 25)]
    with session_scope() as session:
        report = verify_chain(session)
    assert (report.ok, report.entries) == (True, 24)


def test_two_processes_migrating_a_fresh_database_at_once_one_migrates_the_other_waits(postgres, smtp):
    server = postgres.replace("postgresql+psycopg", "postgresql").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS fresh WITH (FORCE)")
        admin.execute("CREATE DATABASE fresh")
    fresh = postgres.rsplit("/", 1)[0] + "/fresh"

    before = run("list", "--by", TRIAGER, INCIDENTS_DATABASE_URL=fresh)  # never migrated: refused, in French
    assert before.returncode != 0 and "Traceback" not in before.stderr
    assert "vide (jamais migré)" in before.stderr and "incidents db upgrade" in before.stderr

    upgrades = [start("db", "upgrade", INCIDENTS_DATABASE_URL=fresh) for _ in range(3)]
    outputs = [process.communicate(timeout=180) for process in upgrades]
    assert [process.returncode for process in upgrades] == [0, 0, 0], outputs
    assert not any("Traceback" in err or err.strip() for _, err in outputs), outputs
    said = sorted(out.strip() for out, _ in outputs)
    assert said.count(f"Registre migré depuis un registre vide à la version {SCHEMA_HEAD}.") == 1, said
    up_to_date = f"Le registre est déjà à jour (schéma en version {SCHEMA_HEAD}) ; rien n'a été changé."
    assert said.count(up_to_date) == 2, said

    with psycopg.connect(fresh.replace("postgresql+psycopg", "postgresql"), autocommit=True) as db:
        db.execute("UPDATE alembic_version SET version_num = '0008'")  # a store left behind by an older release
    older = run("list", "--by", TRIAGER, INCIDENTS_DATABASE_URL=fresh)
    assert older.returncode != 0 and "Traceback" not in older.stderr
    assert f"est en version 0008 ; cette version du moteur attend la version {SCHEMA_HEAD}" in older.stderr


def test_list_and_show_read_postgresql_without_the_orm_and_keep_the_gate(on_postgres, plain_cli, tmp_path):
    villers = declared(plain_cli, tmp_path)["ref"]
    montigny = declared(plain_cli, tmp_path, by=MONTIGNY, municipality="57999")["ref"]
    assert assert_plain_rows_are_the_orms(AUDITOR) == 2  # psycopg's values read as the ORM's

    listed = probe(tmp_path, "list", "--json", "--by", MONTIGNY)
    assert [view["ref"] for view in json.loads(listed.stdout)] == [montigny]
    assert "psycopg" in listed.modules and listed.modules.isdisjoint({"sqlalchemy", "sqlmodel"})
    another = probe(tmp_path, "show", villers, "--by", MONTIGNY)
    assert (another.code, another.stdout, another.stderr) == \
        (1, "", f"Aucun incident ne porte la référence « {villers} ».\n")
    own = probe(tmp_path, "show", montigny, "--json", "--by", MONTIGNY)
    assert (own.code, json.loads(own.stdout)["ref"]) == (0, montigny)


def test_verify_names_a_record_edited_in_postgresql_in_one_process_and_in_two(on_postgres, cli, tmp_path):
    from models.verification import verify_store

    refs = [declared(cli, tmp_path, title=f"Incident {n}")["ref"] for n in range(3)]
    assert cli("verify").exit_code == 0
    with psycopg.connect(on_postgres.replace("postgresql+psycopg", "postgresql"), autocommit=True) as db:
        db.execute("UPDATE incident SET title = 'Rien de grave' WHERE ref IN (%s, %s)", (refs[0], refs[2]))
    alone, shared = verify_store(parallel_from=10**9), verify_store(parallel_from=0)
    assert alone.chain.ok and shared.chain.ok
    assert alone.problems() == shared.problems() and len(alone.problems()) == 2
    assert all(problem.endswith("(modifié hors de la porte unique : titre)") for problem in alone.problems())
