"""Breaker's findings on `verify`'s records check after its rewrite for speed (models/attestation.py): an entry's
payload spelt otherwise than the store writes it (the chain's hash covers the decoded JSON, not its text) must still
be read for its attestations, and odd values must be named, never a traceback."""

import pytest

from models.attestation import compare
from tests.store_probe import execute
from tests.test_verify_checks_records_against_the_timeline import AT, verify_problems
from tests.walkers import declared


@pytest.fixture(autouse=True)
def both_ways(verify_processes: str) -> None:
    """Every check here, in one process and with the chain checked in a second one."""


def test_an_attestation_spelt_with_a_space_before_its_colon_still_attests(cli, store, tmp_path):
    # Entry 2 (the scope proposed) attests the incident's new status and scope. Its payload rewritten with a space
    # after the "state" key hashes the same (the chain covers the decoded JSON): it must still be read, or the
    # creation's attestation would vouch for the status and scope put back beside the door.
    ref = declared(cli, tmp_path, at=AT)["ref"]
    execute(store, "UPDATE timeline_entry SET payload = replace(payload, '\"state\":', '\"state\" :') WHERE seq = 2")
    assert cli("verify").exit_code == 0
    execute(store, "UPDATE incident SET status = 'queued', proposed_scope = NULL WHERE ref = ?", ref)
    [problem] = verify_problems(cli)
    assert problem == f"- {ref} : l'incident (n° 1) ne correspond plus à ce qu'atteste l'entrée n° 2 (modifié hors " \
                      "de la porte unique : état, portée proposée)"


def test_an_attestation_whose_key_is_escaped_still_attests(cli, store, tmp_path):
    # "st\u0061te" is "state" once decoded: the chain holds, and the creation's attestations must still be read
    # (the previous implementation's text search passed over them too: every field of the incident, unjudged).
    ref = declared(cli, tmp_path, at=AT)["ref"]
    execute(store, "UPDATE timeline_entry SET payload = replace(payload, '\"state\":', '\"st\\u0061te\":') "
                   "WHERE seq = 1")
    assert cli("verify").exit_code == 0
    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref = ?", ref)
    [problem] = verify_problems(cli)
    assert problem == f"- {ref} : l'incident (n° 1) ne correspond plus à ce qu'atteste l'entrée n° 1 (modifié hors " \
                      "de la porte unique : titre)"


def test_an_instant_stored_as_a_number_is_named_rather_than_a_traceback(cli, store, tmp_path):
    ref = declared(cli, tmp_path, at=AT)["ref"]
    execute(store, "UPDATE obligation SET anchor_at = x'00', due_at = 5 WHERE id = 1")
    [problem] = verify_problems(cli)
    assert problem == f"- {ref} : une obligation (n° 1) ne correspond plus à ce qu'atteste l'entrée n° 1 (modifiée " \
                      "hors de la porte unique : point de départ, échéance)"


@pytest.mark.parametrize("attested", ["5", '"declared_at"', '["declared_at"]', "null"])
def test_a_record_attested_by_what_is_no_mapping_is_named_rather_than_a_traceback(attested):
    # A chain re-hashed from end to end (or an export forged so) may hold anything: the previous implementation named
    # such an attestation as one of another incident, the rewrite stopped on it.
    found = compare([(1, "INC-2026-0001", f'{{"state": {{"incident:1": {attested}}}}}')], {})
    assert [item.text() for item in found] == ["INC-2026-0001 : l'entrée n° 1 atteste un enregistrement d'un autre "
                                               "incident"]
