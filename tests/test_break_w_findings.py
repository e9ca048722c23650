"""Breaker's and auditor's probes of `verify` over a large store (two processes): a store kept in UTF-16, files and
attachment rows stored as values no file holds, records moved from one process's share of the incidents to the
other's. Each is named as one process names it, never passed over, never a traceback."""

import json
import sqlite3

import pytest

from models.verification import verify_store
from tests.conftest import MUNICIPALITY_REFERENT
from tests.store_probe import execute
from tests.test_break_h_findings import rows
from tests.test_drafts_reach_the_dpd_as_documents import decided
from tests.test_verify_checks_records_against_the_timeline import AT, attached
from tests.walkers import declared, timeline_of


@pytest.fixture(autouse=True)
def both_ways(verify_processes: str) -> None:
    """Every check here, in one process and with the work shared with a second one."""


def test_a_store_kept_in_utf16_hides_no_edited_record(cli, store, tmp_path):
    """SQLite gives a UTF-16 store's texts as UTF-16 bytes: the attestations are read as text there."""
    ref = declared(cli, tmp_path, at=AT)["ref"]
    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref = ?", ref)
    with sqlite3.connect(store) as source:
        dump = list(source.iterdump())
    utf16 = tmp_path / "utf16.db"
    with sqlite3.connect(utf16) as target:
        target.execute("PRAGMA encoding = 'UTF-16le'")
        target.executescript(";\n".join(line for line in dump if line not in ("BEGIN TRANSACTION;", "COMMIT;")))
    assert rows(utf16, "PRAGMA encoding") == [("UTF-16le",)]
    check = verify_store(f"sqlite:///{utf16}")
    assert check.chain.ok
    assert [problem.endswith("(modifié hors de la porte unique : titre)") for problem in check.problems()] == [True]


def test_a_message_file_stored_as_text_or_a_number_is_named_not_a_crash(cli, store, tmp_path):
    decided(cli, tmp_path)
    [(file, message)] = rows(store, "SELECT a.id, a.message_id FROM outbox_attachment a JOIN outbox_message m "
                                    "ON m.id = a.message_id WHERE m.status = 'sent' LIMIT 1")
    for forged in ("'journal'", "5"):
        execute(store, f"UPDATE outbox_attachment SET content = {forged} WHERE id = ?", file)
        result = cli("verify")
        assert result.exit_code == 1 and "Erreur inattendue" not in result.stderr, result.stderr
        assert f"un message remis (n° {message})" in result.stderr
        assert "(modifié hors de la porte unique : fichiers joints)" in result.stderr


def test_an_attachment_whose_row_holds_no_date_or_no_digest_is_named_not_a_crash(cli, store, tmp_path):
    ref, sha256 = attached(cli, tmp_path)
    for column, forged in (("added_at", "'pas une date'"), ("added_at", "5"), ("sha256", "'../../incidents.db'"),
                           ("sha256", "'ab' || char(0) || 'cd'")):
        execute(store, f"UPDATE attachment SET {column} = {forged}")
        result = cli("verify")
        assert result.exit_code == 1 and "Erreur inattendue" not in result.stderr, result.stderr
        assert f"{ref} : une pièce jointe (n° 1) ne correspond plus" in result.stderr
        if column == "sha256":
            assert f"{ref} : le fichier de la pièce jointe « journal.txt » est absent" in result.stderr
        execute(store, f"UPDATE attachment SET {column} = ?",
                "2026-11-29 09:00:00.000000" if column == "added_at" else sha256)


def test_a_record_moved_across_the_two_shares_is_named_once_as_one_process_names_it(cli, store, tmp_path):
    """Three incidents: the second process judges the latest half of them. An obligation moved from the first
    incident to the last, and an incident's reference edited past the others', are each named as now under another
    incident, once, and not also as attested by no entry."""
    refs = [declared(cli, tmp_path, at=AT, title=f"Incident {number}")["ref"] for number in range(3)]
    execute(store, "UPDATE obligation SET incident_id = (SELECT id FROM incident WHERE ref = ?) "
                  "WHERE id = (SELECT min(o.id) FROM obligation o JOIN incident i ON i.id = o.incident_id "
                  "WHERE i.ref = ?)", refs[2], refs[0])
    execute(store, "UPDATE incident SET ref = 'INC-9999-9999' WHERE ref = ?", refs[1])
    url = f"sqlite:///{store}"
    alone, shared = verify_store(url, parallel_from=10**9), verify_store(url, parallel_from=0)
    assert shared.problems() == alone.problems()
    assert not any("n'est attesté" in problem for problem in alone.problems()), alone.problems()
    assert any(problem.startswith(f"{refs[0]} : une obligation (n° ")
               and problem.endswith(f"est désormais rattachée à l'incident {refs[2]}") for problem in alone.problems())
    assert any(problem.startswith(f"{refs[1]} : l'incident (n° ")
               and problem.endswith("porte désormais la référence INC-9999-9999") for problem in alone.problems())



@pytest.mark.parametrize(("column", "named"), [
    ("timeline_entry.actor", "« actor »"), ("timeline_entry.incident_ref", "« incident_ref »"),
    ("incident.title", "« title » (titre)"), ("incident.ref", "« ref » (référence)")])
def test_bytes_that_are_no_utf8_text_are_named_as_an_altered_store(cli, store, tmp_path, column, named):
    """SQLite keeps whatever bytes it is given as text; the door writes only text: such bytes were written beside it.
    The check names their column, not a database out of reach."""
    declared(cli, tmp_path, at=AT)
    table, name = column.split(".")
    execute(store, f"UPDATE {table} SET {name} = CAST(x'C328' AS TEXT) WHERE rowid = (SELECT max(rowid) FROM {table})")
    result = cli("verify")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Registre altéré : la colonne {named} contient des octets qui ne sont pas " \
                                    "du texte UTF-8, écrits hors de la porte unique. Ni la chaîne ni les " \
                                    "enregistrements n'ont pu être contrôlés."


def test_a_record_moved_to_another_communes_incident_is_named_without_naming_that_incident(cli, store, tmp_path):
    ours = declared(cli, tmp_path, at=AT)["ref"]
    theirs = declared(cli, tmp_path, at=AT, municipality="57999", title="Incident à Montigny",
                      reporter={"name": "Service numérique", "email": "numerique@montigny-sur-exemple.example.org"},
                      by="numerique@montigny-sur-exemple.example.org")["ref"]
    execute(store, "UPDATE obligation SET incident_id = (SELECT id FROM incident WHERE ref = ?) WHERE id = (SELECT "
                   "min(o.id) FROM obligation o JOIN incident i ON i.id = o.incident_id WHERE i.ref = ?)", theirs, ours)
    referent = cli("verify", "--by", MUNICIPALITY_REFERENT)
    assert referent.exit_code == 1 and theirs not in referent.stderr, referent.stderr
    assert "est désormais rattachée à un incident que vous ne pouvez pas consulter" in referent.stderr
    academy = cli("verify", "--by", "audit-ent@ac-nancy-metz.example.org")
    assert f"est désormais rattachée à l'incident {theirs}" in academy.stderr, academy.stderr
    # The audit file of their own incident tells them as much, no more.
    audit = json.loads(cli("audit", ours, "--format", "json", "--by", MUNICIPALITY_REFERENT).stdout)
    assert any("est désormais rattachée à un incident que vous ne pouvez pas consulter" in problem
               for problem in audit["proof"]["records_problems"]) and theirs not in json.dumps(audit)
    audit = json.loads(cli("audit", ours, "--format", "json", "--by", "audit-ent@ac-nancy-metz.example.org").stdout)
    assert any(f"est désormais rattachée à l'incident {theirs}" in problem
               for problem in audit["proof"]["records_problems"])


def test_entries_of_another_communes_incident_moved_to_ours_are_not_shown_to_us(cli, store, tmp_path):
    """Entries attached to our incident beside the door, whose hash names another commune's incident: its
    timeline, audit file and final report leave them out for us; the académie sees them, and both are told the
    entries are there."""
    ours = declared(cli, tmp_path, at=AT)["ref"]
    montigny = "numerique@montigny-sur-exemple.example.org"
    theirs = declared(cli, tmp_path, at=AT, municipality="57999", title="Incident à Montigny",
                      reporter={"name": "Service numérique", "email": montigny}, by=montigny)["ref"]
    execute(store, "UPDATE timeline_entry SET incident_id = (SELECT id FROM incident WHERE ref = ?) "
                   "WHERE incident_ref = ?", ours, theirs)
    for command in (("timeline", ours, "--json"), ("timeline", ours), ("audit", ours, "--format", "json"),
                    ("audit", ours), ("proof", ours)):
        shown = cli(*command, "--by", MUNICIPALITY_REFERENT).stdout
        assert shown and theirs not in shown and montigny not in shown and "57999" not in shown, command
    audit = json.loads(cli("audit", ours, "--format", "json", "--by", MUNICIPALITY_REFERENT).stdout)
    assert any("est rattachée à cet incident, mais son empreinte en nomme un autre" in problem
               for problem in audit["proof"]["records_problems"])
    academy = cli("timeline", ours, "--json", "--by", "audit-ent@ac-nancy-metz.example.org").stdout
    assert theirs in academy and montigny in academy


def test_a_renamed_reference_names_its_entries_in_one_line(cli, store, tmp_path):
    """An incident's reference edited beside the door leaves every one of its entries hashed under the old one:
    one line names them, five at most, then a count."""
    ref = declared(cli, tmp_path, at=AT)["ref"]
    seqs = [entry["seq"] for entry in timeline_of(cli, ref)]
    execute(store, "UPDATE incident SET ref = 'INC-9999-9999' WHERE ref = ?", ref)
    result = cli("verify")
    assert result.exit_code == 1
    misfiled = [line for line in result.stderr.splitlines() if "rattachée" in line and "empreinte" in line]
    listed = ", ".join(map(str, seqs[:5]))
    assert misfiled == [f"  - les entrées n° {listed} et {len(seqs) - 5} autre{'s' if len(seqs) > 6 else ''} ({ref}) "
                        "sont rattachées à un autre incident que celui que couvre leur empreinte"], result.stderr


def test_a_commune_is_told_of_its_own_incident_renamed_beside_the_door(cli, store, tmp_path):
    """The reference edited is theirs, as the incident still is: the commune's referent reads both lines, nothing is
    counted as another commune's."""
    ref = declared(cli, tmp_path, at=AT)["ref"]
    execute(store, "UPDATE incident SET ref = 'INC-2026-0009' WHERE ref = ?", ref)
    result = cli("verify", "--by", MUNICIPALITY_REFERENT)
    assert result.exit_code == 1
    assert "porte désormais la référence INC-2026-0009" in result.stderr
    assert f"({ref}) sont rattachées à un autre incident que celui que couvre leur empreinte" in result.stderr
    assert "que vous ne pouvez pas consulter" not in result.stderr, result.stderr
    entries = json.loads(cli("timeline", "INC-2026-0009", "--json", "--by", MUNICIPALITY_REFERENT).stdout)
    assert entries and {entry["ref"] for entry in entries} == {ref}  # its own entries, under its former reference


def test_an_earlier_incidents_audit_names_a_deleted_tail_as_later_not_as_its_own_records(cli, store, tmp_path):
    """The chain's last entries deleted (a later incident's): an earlier incident's records still match what the
    chain attests of them; its audit file says so, and names the deleted end apart."""
    first = declared(cli, tmp_path, at=AT)["ref"]
    declared(cli, tmp_path, at=AT, title="Plus tard")
    last = rows(store, "SELECT max(seq) FROM timeline_entry")[0][0]
    execute(store, "DELETE FROM timeline_entry WHERE seq > ?", last - 2)

    audit = json.loads(cli("audit", first, "--format", "json").stdout)
    assert audit["proof"]["records_problems"] == []
    assert audit["proof"]["later_problems"] == [f"la tête de la chronologie annonce {last} entrées, la dernière "
                                                f"restante est la n° {last - 2} : les dernières ont disparu"]
    page = cli("audit", first).stdout
    assert "Les enregistrements de cet incident correspondent à ce qu'atteste la chronologie." in page
    assert "Après la dernière entrée de cet incident, ailleurs dans la chronologie : la tête" in page
