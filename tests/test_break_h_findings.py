"""Breaker's probes (h-break): records an auditor relies on, edited beside the door, that verify does not name."""

import sqlite3

from tests.store_probe import execute
from tests.test_drafts_reach_the_dpd_as_documents import decided
from tests.walkers import declared

AT = "2026-11-28T10:00:00+01:00"


def rows(store, sql, *params):
    with sqlite3.connect(store) as connection:
        return connection.execute(sql, params).fetchall()


def test_files_a_delivered_message_carried_edited_in_the_outbox(cli, store, tmp_path):
    decided(cli, tmp_path)
    files = rows(store, "SELECT a.id, a.filename, m.status, m.template FROM outbox_attachment a "
                        "JOIN outbox_message m ON m.id = a.message_id")
    print(files)
    assert files and any(status == "sent" for _, _, status, _ in files)
    assert cli("verify").exit_code == 0
    execute(store, "UPDATE outbox_attachment SET content = X'00'")
    result = cli("verify")
    print(result.output)
    assert result.exit_code == 1, "a delivered message's files edited beside the door go unnoticed"


def test_a_delivered_alert_marked_refused_in_the_outbox(cli, store, tmp_path):
    ref = declared(cli, tmp_path, at=AT)["ref"]
    sent = rows(store, "SELECT id FROM outbox_message WHERE status = 'sent' AND template = 'cross_party_alert'")
    assert sent
    execute(store, "UPDATE outbox_message SET status = 'refused', last_error = '550 boîte inconnue' "
                   "WHERE template = 'cross_party_alert'")
    result = cli("verify")
    print(result.output)
    audit = cli("audit", ref, "--at", "2026-11-28T16:00:00+01:00")
    print(audit.stdout)
    assert result.exit_code == 1, "a delivered alert shown as refused goes unnoticed"


def test_the_audit_file_of_an_incident_whose_creation_entry_is_shown_under_another(cli, store, tmp_path):
    """The entry's display id is not covered by its hash: moved to another incident, the audit file of the first
    no longer sees the attestation of its title, and the title edited beside the door passes unnoticed there."""
    first = declared(cli, tmp_path, at=AT)["ref"]
    second = declared(cli, tmp_path, at=AT, title="Autre incident")["ref"]
    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref = ?", first)
    execute(store, "UPDATE timeline_entry SET incident_id = (SELECT id FROM incident WHERE ref = ?) "
                   "WHERE incident_ref = ? AND kind = 'declared'", second, first)
    assert cli("verify").exit_code == 1  # the whole store's check names it
    audit = cli("audit", first, "--at", "2026-11-28T16:00:00+01:00")
    assert audit.exit_code == 0, audit.output
    assert "Les enregistrements de cet incident correspondent à ce qu'atteste la chronologie." not in audit.stdout
    assert "l&#39;entrée n° 1 de cet incident est rattachée à un autre incident" in audit.stdout
    assert "(modifié hors de la porte unique : titre)" in audit.stdout


def test_the_engine_refuses_to_sign_an_entry_rewritten_before_its_last_checkpoint_left_unhashed(cli, store,
                                                                                                   tmp_path):
    """The guard compares one stored hash (the last signed entry's) with the note: an entry before it altered
    without recomputing any hash keeps that hash; with the checkpoints' rows deleted, the engine rebuilt its tree
    from the altered entries and signed it, a tree that does not extend its last checkpoint."""
    import json

    from tests.test_signed_checkpoints import AUDITOR, kept_checkpoint
    from tests.walkers import timeline_of

    ref, held = kept_checkpoint(cli, tmp_path)
    first = timeline_of(cli, ref)[0]
    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?",
            json.dumps({**first["payload"], "municipality": "54998"}), first["seq"])
    execute(store, "DELETE FROM signed_checkpoint")
    declared(cli, tmp_path, at=AT, title="Déclaré après la réécriture")  # new entries to sign
    refused = cli("checkpoint", "--by", AUDITOR)
    assert refused.exit_code == 1, refused.output
    assert "ne sont plus celles" in refused.stderr


def test_the_engine_refuses_to_extend_a_frontier_forged_in_the_latest_checkpoint_row(cli, store, tmp_path):
    """The stored frontier is checked against the row's root column, both in the database: forged together (the
    tree of altered entries), the engine extended the forged tree."""
    import json

    from models.checkpoints import tree
    from models.db import session_scope
    from tests.test_signed_checkpoints import AUDITOR, kept_checkpoint
    from tests.walkers import timeline_of
    from proof.merkle import Frontier

    ref, held = kept_checkpoint(cli, tmp_path)
    size = int(held.read_text(encoding="utf-8").splitlines()[1])
    first = timeline_of(cli, ref)[0]
    execute(store, "UPDATE timeline_entry SET payload = ? WHERE seq = ?",
            json.dumps({**first["payload"], "municipality": "54998"}), first["seq"])
    with session_scope() as session:
        from models.checkpoints import leaves
        frontier = Frontier()
        frontier.extend(leaves(session, 0, size))
    execute(store, "UPDATE signed_checkpoint SET root = ?, frontier = ? WHERE size = ?",
            frontier.root().hex(), json.dumps(frontier.to_dict()), size)
    declared(cli, tmp_path, at=AT, title="Déclaré après la réécriture")
    refused = cli("checkpoint", "--by", AUDITOR)
    assert refused.exit_code == 1, refused.output
