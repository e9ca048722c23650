"""Each entry attests the state of the records its change wrote (models/attestation.py): `incidents verify` names
a record edited beside the door — an incident's title, an obligation's due time, a decision's answer — and an entry
moved to another incident, even though the chain of hashes itself is intact."""

import sqlite3

import pytest

from tests.conftest import DPD, MUNICIPALITY_REFERENT
from tests.store_probe import execute
from tests.test_breach_decision import BREACH, assess
from tests.walkers import declared, timeline_of


@pytest.fixture(autouse=True)
def both_ways(verify_processes: str) -> None:
    """Every check here, in one process and with the chain checked in a second one."""

AT = "2026-11-28T10:00:00+01:00"


def decided_breach(cli, tmp_path) -> str:
    ref = declared(cli, tmp_path, aware_at="2026-11-28T09:30:00+01:00", at=AT, **BREACH)["ref"]
    assess(cli, tmp_path, ref, "2026-11-28T14:00:00+01:00")
    result = cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD, "--at", "2026-11-28T15:00:00+01:00")
    assert result.exit_code == 0, result.output
    return ref


def verify_problems(cli) -> list[str]:
    result = cli("verify")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "Chaîne intègre, mais les enregistrements ne correspondent plus à la chronologie :"
    return [line.strip() for line in lines[1:]]


def test_records_written_through_the_door_match_what_the_timeline_attests(cli, tmp_path):
    decided_breach(cli, tmp_path)
    result = cli("verify")
    assert result.exit_code == 0, result.output
    assert "; les enregistrements correspondent à ce qu'elle atteste." in result.stdout
    audit = cli("audit", "INC-2026-0001", "--at", "2026-11-28T16:00:00+01:00")
    assert "Les enregistrements de cet incident correspondent à ce qu'atteste la chronologie." in audit.stdout


def test_an_incident_title_edited_in_its_table_is_named(cli, store, tmp_path):
    ref = decided_breach(cli, tmp_path)
    execute(store, "UPDATE incident SET title = 'Incident sans gravité' WHERE ref = ?", ref)
    [problem] = verify_problems(cli)
    assert problem.startswith(f"- {ref} : l'incident (n° 1) ne correspond plus à ce qu'atteste l'entrée n° ")
    assert problem.endswith("(modifié hors de la porte unique : titre)")
    audit = cli("audit", ref, "--at", "2026-11-28T16:00:00+01:00")
    assert audit.exit_code == 0, audit.output
    assert "Mais les enregistrements de cet incident ne correspondent plus à la chronologie" in audit.stdout
    assert "(modifié hors de la porte unique : titre)" in audit.stdout
    written = cli("audit", ref, "--at", "2026-11-28T16:00:00+01:00", "-o", str(tmp_path / "dossier.html"))
    assert written.exit_code == 0, written.output
    assert written.stderr.startswith("Attention : la preuve d'intégrité de ce dossier signale un problème")


def test_an_obligations_due_time_edited_in_its_table_is_named(cli, store, tmp_path):
    ref = decided_breach(cli, tmp_path)
    execute(store, "UPDATE obligation SET due_at = '2027-01-01 00:00:00.000000' WHERE kind = 'cnil_notification'")
    [problem] = verify_problems(cli)
    assert problem.startswith(f"- {ref} : une obligation (n° 2) ne correspond plus")
    assert problem.endswith("(modifiée hors de la porte unique : échéance)")


def test_a_decisions_answer_edited_in_its_table_is_named(cli, store, tmp_path):
    ref = decided_breach(cli, tmp_path)
    execute(store, "UPDATE breach_decision SET subjects = 'no', rationale = 'Risque faible.'")
    [problem] = verify_problems(cli)
    assert problem.startswith(f"- {ref} : la décision du DPD (n° 1) ne correspond plus")
    assert problem.endswith("(modifiée hors de la porte unique : réponse sur l'information des personnes, "
                            "motivation)")


def test_an_entry_moved_to_another_incident_is_named(cli, store, tmp_path):
    first = declared(cli, tmp_path, at=AT)["ref"]
    second = declared(cli, tmp_path, at=AT, title="Autre incident")["ref"]
    entry = timeline_of(cli, first)[0]
    execute(store, "UPDATE timeline_entry SET incident_id = (SELECT id FROM incident WHERE ref = ?) WHERE seq = ?",
            second, entry["seq"])
    problems = verify_problems(cli)
    assert f"- l'entrée n° {entry['seq']} ({first}) est rattachée à un autre incident que celui que couvre son " \
           "empreinte" in problems


def test_a_later_change_through_the_door_does_not_launder_a_field_edited_beside_it(cli, store, tmp_path):
    ref = declared(cli, tmp_path, at=AT)["ref"]
    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref = ?", ref)
    acknowledged = cli("acknowledge", ref, "--by", "rssi@ac-nancy-metz.example.org", "--at", AT)
    assert acknowledged.exit_code == 0, acknowledged.output  # the door writes the incident again, not its title
    [problem] = verify_problems(cli)
    assert problem.endswith("(modifié hors de la porte unique : titre)")


def test_a_record_inserted_beside_the_door_is_named(cli, store, tmp_path):
    ref = decided_breach(cli, tmp_path)
    execute(store, "INSERT INTO cnil_filing (incident_id, filed_at, reference, complementary, recorded_by) "
                   "SELECT id, '2026-11-28 16:00:00.000000', 'CNIL-FAUX', 0, ? FROM incident WHERE ref = ?", DPD, ref)
    [problem] = verify_problems(cli)
    assert problem == f"- {ref} : un dépôt CNIL (n° 1) n'est attesté par aucune entrée : ajouté hors de la porte " \
                      "unique, ou l'entrée qui l'attestait a été supprimée"


def test_a_delivered_alert_edited_in_the_outbox_is_named(cli, store, tmp_path):
    ref = declared(cli, tmp_path, at=AT)["ref"]
    execute(store, "UPDATE outbox_message SET subject = 'Pour information', message_id = '<autre@example.org>' "
                   "WHERE id = (SELECT min(id) FROM outbox_message WHERE template = 'cross_party_alert')")
    [problem] = verify_problems(cli)
    assert problem.startswith(f"- {ref} : un message remis (n° 1) ne correspond plus à ce qu'atteste l'entrée n° ")
    assert problem.endswith("(modifié hors de la porte unique : objet, identifiant du message (Message-ID))")


def test_a_delivered_alert_marked_refused_in_the_outbox_is_named(cli, store, tmp_path):
    ref = declared(cli, tmp_path, at=AT)["ref"]
    execute(store, "UPDATE outbox_message SET status = 'refused', last_error = '550 boîte inconnue' "
                   "WHERE id = (SELECT min(id) FROM outbox_message WHERE template = 'cross_party_alert')")
    [problem] = verify_problems(cli)
    assert problem.startswith(f"- {ref} : un message remis (n° 1) ne correspond plus")
    assert problem.endswith("(modifié hors de la porte unique : état)")


def test_a_delivered_message_inserted_beside_the_door_is_named_and_a_queued_one_is_not(cli, store, tmp_path):
    ref = declared(cli, tmp_path, at=AT)["ref"]
    columns = "incident_id, idempotency_key, template, step, fulfils, recipient_name, recipient_email, " \
              "recipient_party, attempts, status"
    for key, status in (("forged", "sent"), ("queued", "pending")):
        execute(store, f"INSERT INTO outbox_message ({columns}) SELECT id, ?, 'cross_party_alert', 'initial', 0, "
                       "'RSSI', 'rssi@ac-nancy-metz.example.org', 'academy', 0, ? FROM incident WHERE ref = ?",
                key, status, ref)
    [problem] = verify_problems(cli)
    assert problem.startswith(f"- {ref} : un message remis (n° ")
    assert problem.endswith(") n'est attesté par aucune entrée : ajouté hors de la porte unique, ou l'entrée qui "
                            "l'attestait a été supprimée")


def test_a_follow_up_report_edited_in_its_table_is_named(cli, store, tmp_path):
    ref = declared(cli, tmp_path, at=AT)["ref"]
    report = tmp_path / "suivi.yaml"
    report.write_text("done: Mots de passe réinitialisés.\nplanned: Audit des journaux.\nimpact: Aucun accès.\n",
                      encoding="utf-8")
    result = cli("follow-up", ref, "--file", str(report), "--by", MUNICIPALITY_REFERENT,
                 "--at", "2026-11-29T10:00:00+01:00")
    assert result.exit_code == 0, result.output
    execute(store, "UPDATE incident_report SET content = '{\"done\": \"Rien à signaler.\"}'")
    [problem] = verify_problems(cli)
    assert problem.startswith(f"- {ref} : un rapport (n° 1) ne correspond plus à ce qu'atteste l'entrée n° ")
    assert problem.endswith("(modifié hors de la porte unique : contenu)")


def attached(cli, tmp_path) -> tuple[str, str]:
    """An incident declared, and a file attached to it through the door: its reference and the file's SHA-256."""
    from cli.app import act
    from models.attachments import keep_staged, stage_file
    from models.commands import Attach

    ref = declared(cli, tmp_path, at=AT)["ref"]
    content = b"journal d'authentification\n"
    sha256, staged = stage_file(content)
    act(Attach(ref=ref, filename="journal.txt", content_type="text/plain", size=len(content), sha256=sha256),
        MUNICIPALITY_REFERENT, "2026-11-29T10:00:00+01:00")
    keep_staged(staged, sha256)
    return ref, sha256


def test_an_attachment_edited_in_its_table_or_on_disk_is_named(cli, store, tmp_path):
    from models.attachments import stored_path

    ref, sha256 = attached(cli, tmp_path)
    assert cli("verify").exit_code == 0
    stored_path(sha256).write_bytes(b"journal remplac\xc3\xa9\n")
    execute(store, "UPDATE attachment SET filename = 'journal-propre.txt'")
    problems = verify_problems(cli)
    assert problems[0].startswith(f"- {ref} : une pièce jointe (n° 1) ne correspond plus à ce qu'atteste l'entrée "
                                  "n° ")
    assert problems[0].endswith("(modifiée hors de la porte unique : nom du fichier)")
    assert problems[1] == f"- {ref} : le fichier de la pièce jointe « journal-propre.txt » ne correspond plus à son " \
                          "empreinte"


def test_an_export_whose_record_lines_are_forged_and_rehashed_is_refused(cli, tmp_path):
    import json

    from models.timeline import GENESIS_HASH
    from reports.export import _line_hash

    ref = decided_breach(cli, tmp_path)
    honest = tmp_path / "archive.jsonl"
    assert cli("export", "--format", "jsonl", "-o", str(honest), "--by", "audit-ent@ac-nancy-metz.example.org"
               ).exit_code == 0
    checked = cli("verify", "--export", str(honest))
    assert checked.exit_code == 0, checked.output

    lines, previous = [], GENESIS_HASH
    for text in honest.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        del line["line_hash"]
        if line["type"] == "incident":
            line["title"] = "Incident sans gravité"
        if line["type"] == "breach_decision":
            line["notify_cnil"] = "no"
        previous = _line_hash(previous, line)  # every line hash recomputed, as someone who knows the format would
        lines.append(json.dumps({**line, "line_hash": previous}, ensure_ascii=False))
    forged = tmp_path / "forge.jsonl"
    forged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused = cli("verify", "--export", str(forged))
    assert refused.exit_code == 1
    problems = refused.stderr.strip().splitlines()
    assert problems[0] == "Export intègre ligne à ligne, mais ses enregistrements ne correspondent plus à sa " \
                          "chronologie :"
    assert problems[1].strip().startswith(f"- {ref} : l'incident (n° 1) ne correspond plus à ce qu'atteste l'entrée "
                                          "n° ")
    assert problems[1].endswith("(modifié hors de la porte unique : titre)")
    assert problems[2].endswith("(modifiée hors de la porte unique : réponse sur la notification à la CNIL)")


def test_an_incident_inserted_beside_the_door_with_no_entry_at_all_is_named(cli, store, tmp_path):
    declared(cli, tmp_path, at=AT)
    with sqlite3.connect(store) as connection:  # a copy of the first, under another reference, by hand
        columns = ", ".join(row[1] for row in connection.execute("PRAGMA table_info(incident)")
                            if row[1] not in ("id", "ref", "title"))
        connection.execute(f"INSERT INTO incident (ref, title, {columns}) SELECT 'INC-2026-0099', 'Faux incident', "
                           f"{columns} FROM incident WHERE id = 1")
    [problem] = verify_problems(cli)
    assert problem == "- INC-2026-0099 : l'incident (n° 2) n'est attesté par aucune entrée : ajouté hors de la " \
                      "porte unique, ou l'entrée qui l'attestait a été supprimée"
    audit = cli("audit", "INC-2026-0099", "--at", "2026-11-28T16:00:00+01:00")
    assert audit.exit_code == 0, audit.output
    assert "Aucune entrée de la chronologie ne concerne cet incident." in audit.stdout
    assert "(n° 2) n&#39;est attesté par aucune entrée" in audit.stdout


def test_a_communes_referent_is_told_only_of_their_communes_incidents(cli, store, tmp_path):
    ours = declared(cli, tmp_path, at=AT)["ref"]
    theirs = declared(cli, tmp_path, at=AT, municipality="57999", title="Incident à Montigny",
                      reporter={"name": "Service numérique", "email": "numerique@montigny-sur-exemple.example.org"},
                      by="numerique@montigny-sur-exemple.example.org")["ref"]
    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref IN (?, ?)", ours, theirs)
    result = cli("verify", "--by", MUNICIPALITY_REFERENT)
    assert result.exit_code == 1
    assert ours in result.stderr and theirs not in result.stderr and "Montigny" not in result.stderr
    assert "1 problème touche un incident que vous ne pouvez pas consulter ; les personnes de l'académie peuvent " \
           "le consulter avec la même commande" in result.stderr
    academy = cli("verify", "--by", "audit-ent@ac-nancy-metz.example.org")
    assert ours in academy.stderr and theirs in academy.stderr


def test_a_score_that_is_no_number_is_shown_as_stored_and_named(cli, store, tmp_path):
    """A score written beside the door as text: the register and the audit file still open, show it as stored, and
    the audit names the assessment as edited."""
    ref = decided_breach(cli, tmp_path)
    execute(store, "UPDATE breach_assessment SET se = 'abc', ei = '1,5'")
    register = cli("register")
    assert register.exit_code == 0, register.output
    assert "SE abc" in register.stdout
    audit = cli("audit", ref)
    assert audit.exit_code == 0, audit.output
    assert "EI 1,5" in audit.stdout and "SE abc" in audit.stdout
    assert "modifiée hors de la porte unique : EI, score" in audit.stdout
