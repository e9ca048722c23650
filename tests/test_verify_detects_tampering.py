"""`incidents verify` proves the timeline chain holds, and names the first entry that was altered."""

import json

import pytest

from tests.store_probe import execute
from tests.walkers import declared, timeline_of

# A broken chain says why nothing more is said of the records: an auditor must not read silence as agreement.
NOT_COMPARED = " Les enregistrements ne sont pas comparés à la chronologie tant qu'elle est rompue."


@pytest.fixture(autouse=True)
def both_ways(verify_processes: str) -> None:
    """Every check here, in one process and with the chain checked in a second one."""


def test_an_untouched_chain_verifies(cli, tmp_path):
    entries = timeline_of(cli, declared(cli, tmp_path)["ref"])
    result = cli("verify")
    assert result.exit_code == 0
    assert result.stdout.strip() == (f"Chaîne intègre : {len(entries)} entrées, empreinte de tête "
                                     f"{entries[-1]['hash']} ; les enregistrements correspondent à ce qu'elle "
                                     "atteste. (Cohérence du registre avec lui-même : contre qui l'exploite, "
                                     "vérifiez avec --checkpoint.)")


def test_altering_one_stored_entry_makes_verify_fail_and_name_it(cli, store, tmp_path):
    ref = declared(cli, tmp_path)["ref"]
    proposed = next(entry for entry in timeline_of(cli, ref) if entry["kind"] == "scope_proposed")
    forged = {**proposed["payload"], "scope": "academy"}

    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?", json.dumps(forged), proposed["seq"])

    result = cli("verify")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Chaîne rompue à l'entrée n° {proposed['seq']} (incident {ref}) : "
                                     "contenu modifié : l'empreinte ne correspond plus." + NOT_COMPARED)


def test_deleting_the_last_entries_is_detected(cli, store, tmp_path):
    last = timeline_of(cli, declared(cli, tmp_path)["ref"])[-1]
    execute(store, "DELETE FROM timeline_entry WHERE seq = ?", last["seq"])

    result = cli("verify")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Chaîne rompue à l'entrée n° {last['seq']} : les dernières entrées de la chaîne "
                                     f"ont disparu (l'entrée n° {last['seq']}, que sa tête compte encore)."
                                     + NOT_COMPARED)
    execute(store, "DELETE FROM timeline_entry WHERE seq = ?", last["seq"] - 1)
    assert f"à l'entrée n° {last['seq'] - 1} : les dernières entrées de la chaîne ont disparu (les entrées " \
        f"n° {last['seq'] - 1} à {last['seq']}, que sa tête compte encore)." in cli("verify").stderr


def test_values_no_entry_could_hold_are_reported_as_modified_not_as_a_crash(cli, store, tmp_path):
    entries = timeline_of(cli, declared(cli, tmp_path)["ref"])
    execute(store, "UPDATE timeline_entry SET occurred_at = 'garbage' WHERE seq = ?", entries[1]["seq"])
    result = cli("verify")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"Chaîne rompue à l'entrée n° {entries[1]['seq']}")
    assert "contenu modifié" in result.stderr


def test_the_chain_head_deleted_changed_or_overtaken_is_named_as_such(cli, store, tmp_path):
    entries = timeline_of(cli, declared(cli, tmp_path)["ref"])
    last = entries[-1]["seq"]
    execute(store, "UPDATE chain_head SET hash = ?", "0" * 64)
    assert cli("verify").stderr.strip() == (f"Chaîne rompue à l'entrée n° {last} : la tête de chaîne ne correspond "
                                            "plus à la dernière entrée." + NOT_COMPARED)
    execute(store, "UPDATE chain_head SET hash = ?, seq = ?", entries[-2]["hash"], last - 1)
    assert cli("verify").stderr.strip() == (f"Chaîne rompue à l'entrée n° {last} : la chaîne continue après sa tête "
                                            f"(entrée n° {last - 1}) : entrées ajoutées hors de la porte unique."
                                            + NOT_COMPARED)
    execute(store, "DELETE FROM chain_head")
    result = cli("verify")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Chaîne rompue à l'entrée n° {last} : la tête de chaîne a disparu." + NOT_COMPARED


def test_an_empty_store_verifies_in_correct_french(cli, store):
    result = cli("verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Chaîne intègre : 0 entrée, empreinte de tête ")


@pytest.mark.parametrize("change", ["occurred_at = occurred_at || char(0) || 'ajout'",
                                    "recorded_at = recorded_at || char(0) || 'ajout'", "seq = 'x'",
                                    "payload = '{\"state\":' || replace(hex(zeroblob(100000)), '00', '[') || '}'"])
def test_values_that_sqlite_reads_short_or_that_nest_too_deep_are_named_not_passed(cli, store, tmp_path, change):
    """Bytes after a NUL, which SQLite's text functions do not see; a sequence number that is no number; JSON nested
    past what Python reads: each is an altered entry, whether the chain is checked here or in a second process."""
    entries = timeline_of(cli, declared(cli, tmp_path)["ref"])
    execute(store, f"UPDATE timeline_entry SET {change} WHERE seq = ?", entries[1]["seq"])
    result = cli("verify")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Chaîne rompue à l'entrée n° "), result.stderr
    assert "Erreur inattendue" not in result.stderr
