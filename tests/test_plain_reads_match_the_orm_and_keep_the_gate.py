"""`list` and `show` read the store through its database driver, without SQLAlchemy (issue 12): the rows they read are
the ORM's, column for column, and the reading rule (models.gate) holds on them as on the ORM's queries: a commune's
person sees neither in a list nor by its reference another commune's incident, answered exactly as a missing one."""

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from models.breach_reads import decision_of, latest_assessment
from models.db import read_scope
from models.driver import plain_read
from models.journal import obligations_of as orm_obligations_of
from models.outbox import OutboxMessage
from models.plain_reads import (
    IncidentRow,
    MessageRow,
    ObligationRow,
    breach_of,
    messages_of,
    obligations_of,
    readable_incident_rows,
)
from models.queries import readable_incidents
from settings.parties import load_parties
from tests.conftest import AUDITOR, REFERENT, TRIAGER, Cli
from tests.seed import REFERENTS, seed
from tests.test_cli_start_up import probe
from tests.walkers import declared

MONTIGNY = REFERENTS["57999"]
ORM = {"sqlalchemy", "sqlmodel"}


def columns_of(orm_row: Any, kind: type[Any]) -> dict[str, Any]:
    """The ORM object's values for the plain row's fields (an AttributeError if the row names a column it lacks)."""
    return {field.name: getattr(orm_row, field.name) for field in fields(kind)}


def assert_plain_rows_are_the_orms(reader_email: str) -> int:
    """Every incident `reader_email` may read, its obligations, messages and breach: the same through the driver as
    through the ORM (instants compared as instants, JSON as decoded). Returns how many incidents were compared."""
    reader = load_parties().person(reader_email)
    assert reader is not None
    with read_scope() as session, plain_read() as store:
        incidents = readable_incidents(session, reader)
        rows = readable_incident_rows(store, reader)
        assert [asdict(row) for row in rows] == [columns_of(incident, IncidentRow) for incident in incidents]
        for incident, row in zip(incidents, rows, strict=True):
            assert [asdict(o) for o in obligations_of(store, row.id)] == \
                [columns_of(o, ObligationRow) for o in orm_obligations_of(session, incident)]
            messages = session.exec(select(OutboxMessage).where(OutboxMessage.incident_id == incident.id)
                                    .order_by(col(OutboxMessage.id))).all()
            assert [asdict(m) for m in messages_of(store, row.id)] == [columns_of(m, MessageRow) for m in messages]
            assessment, decision = latest_assessment(session, incident), decision_of(session, incident)
            breach = breach_of(store, row.id)
            assert breach.level == (assessment.level if assessment else None)
            assert (breach.notify_cnil, breach.subjects) == \
                ((decision.notify_cnil, decision.subjects) if decision else (None, None))
            assert (row.scope, row.scope_status, row.is_open) == \
                (incident.scope, incident.scope_status, incident.is_open)
        return len(rows)


def test_plain_rows_are_the_orms_column_for_column(plain_cli: Cli, tmp_path: Path) -> None:
    # Declared, triaged, acknowledged, assessed, decided, filed, informed, dismissed, closed, swept by the engine.
    seeded = seed(plain_cli, tmp_path, count=10)

    assert assert_plain_rows_are_the_orms(AUDITOR) == len(seeded.refs)
    assert 0 < assert_plain_rows_are_the_orms(REFERENT) < len(seeded.refs)  # the gate, on both ways of reading


def test_a_commune_sees_only_its_own_incidents_without_the_orm(plain_cli: Cli, tmp_path: Path) -> None:
    villers = declared(plain_cli, tmp_path)["ref"]
    montigny = declared(plain_cli, tmp_path, by=MONTIGNY, municipality="57999")["ref"]

    listed = probe(tmp_path, "list", "--json", "--by", MONTIGNY)  # refused: another commune's is not listed
    assert (listed.code, [view["ref"] for view in json.loads(listed.stdout)]) == (0, [montigny])
    assert listed.modules.isdisjoint(ORM)
    everything = probe(tmp_path, "list", "--json", "--by", TRIAGER)  # allowed: the académie reads every commune's
    assert [view["ref"] for view in json.loads(everything.stdout)] == [villers, montigny]

    another = probe(tmp_path, "show", villers, "--by", MONTIGNY)
    missing = probe(tmp_path, "show", "INC-2099-0001", "--by", MONTIGNY)
    assert (another.code, another.stdout, another.stderr) == \
        (1, "", f"Aucun incident ne porte la référence « {villers} ».\n")
    assert (missing.code, missing.stdout, missing.stderr) == \
        (1, "", "Aucun incident ne porte la référence « INC-2099-0001 ».\n")
    assert probe(tmp_path, "show", villers, "--json", "--by", MONTIGNY).stderr == another.stderr
    assert another.modules.isdisjoint(ORM) and missing.modules.isdisjoint(ORM)

    own = probe(tmp_path, "show", montigny, "--json", "--by", MONTIGNY)  # allowed: its own
    assert (own.code, json.loads(own.stdout)["ref"]) == (0, montigny)
    assert own.modules.isdisjoint(ORM)


def test_a_store_not_yet_created_is_created_by_a_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first `list` finds no store file: models.db creates and migrates it, then the driver reads it."""
    store = tmp_path / "new" / "incidents.db"
    store.parent.mkdir()
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{store}")

    first = probe(tmp_path, "list", "--by", AUDITOR)

    assert (first.code, first.stdout, first.stderr) == (0, "Aucun incident enregistré.\n", "")
    assert store.is_file()
    assert probe(tmp_path, "list", "--by", AUDITOR).modules.isdisjoint(ORM)  # the second one, without the ORM


def test_declarations_exactly_three_days_apart_are_compared(plain_cli: Cli, tmp_path: Path) -> None:
    """The driver compares instants as the ORM stores them (SQLite: the UTC wall time as text, to the microsecond):
    an earlier declaration at either edge of the 72-hour window (RG-DUP-01) is found."""
    first = declared(plain_cli, tmp_path, aware_at="2026-11-25T09:30:00+01:00", at="2026-11-25T10:00:00+01:00")["ref"]
    later = declared(plain_cli, tmp_path, aware_at="2026-11-28T09:30:00+01:00", at="2026-11-28T10:00:00+01:00")
    again = declared(plain_cli, tmp_path, aware_at="2026-11-25T09:30:00+01:00", at="2026-11-28T10:00:00+01:00")

    assert later["possible_duplicates"] == [first]  # 72 hours before it
    assert again["possible_duplicates"] == [first, later["ref"]]  # at the same instant, and 72 hours after it
