"""Each defect the one door fixes, tried as a user would: every one of these passed through the old, hand-written
doors. Refused commands leave the store unchanged, row for row, chain head included."""

import json
from pathlib import Path

import pendulum
import pytest
import yaml

from tests.conftest import ADMIN, AUDITOR, DPD, REFERENT, TRIAGER, Cli, write_declaration
from tests.store_probe import snapshot
from tests.walkers import declared, obligation, shown, timeline_of

BREACH = {"personal_data": "unknown", "categories": ["vendor", "personal_data"], "data_subjects": {"pupils": 40}}
ASSESSMENT = {"data_types": ["behavioural"], "ease_of_identification": "maximum", "confidentiality": "limited",
              "nature": "Messages exposés.", "consequences": "Atteinte à la vie privée.", "measures": "Accès coupé."}
CLOSURE = {"summary": "Incident résolu.", "measures": "Correctif appliqué."}


def ok(cli: Cli, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.output)
    return str(result.stdout)


def write(folder: Path, name: str, data: dict[str, object]) -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_unknown_then_no_waives_the_breach_clocks_with_who_and_why_and_the_incident_can_close(cli, tmp_path, smtp):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    ok(cli, "watch", "--at", "2026-11-20T10:05:00+01:00")
    refused = cli("personal-data", ref, "--value", "no", "--aware-at", "2026-11-20T11:00:00+01:00", "--by", DPD,
                  "--at", "2026-11-20T11:00:00+01:00")
    assert refused.exit_code == 2 and "--reason" in refused.stderr
    referent = cli("personal-data", ref, "--value", "no", "--aware-at", "2026-11-20T11:00:00+01:00", "--by", REFERENT,
                   "--reason", "Rien de personnel.", "--at", "2026-11-20T11:00:00+01:00")
    assert referent.exit_code == 1 and "RG-DOOR-18" in referent.stderr  # the commune cannot lift the CNIL clock

    ok(cli, "personal-data", ref, "--value", "no", "--aware-at", "2026-11-20T11:00:00+01:00", "--by", DPD,
       "--reason", "L'éditeur confirme qu'aucun message n'a été lu.", "--at", "2026-11-20T11:00:00+01:00")

    assert obligation(shown(cli, ref), "cnil_notification")["status"] == "not_required"
    [waived] = [e for e in timeline_of(cli, ref) if e["kind"] == "obligation_waived"]
    assert (waived["actor"], waived["party"], waived["payload"]["obligation"], waived["payload"]["reason"]) == \
        (DPD, "academy", "cnil_notification", "L'éditeur confirme qu'aucun message n'a été lu.")
    # Days later the watchdog chases no CNIL clock, and the incident closes.
    smtp.received.clear()
    ok(cli, "watch", "--at", "2026-11-24T12:00:00+01:00")
    assert [s for _, s in smtp.subjects() if "CNIL" in s] == []
    ok(cli, "close", ref, "--file", write(tmp_path, "closure.yaml", CLOSURE), "--by", TRIAGER,
       "--at", "2026-11-24T12:05:00+01:00")
    assert shown(cli, ref)["status"] == "closed"


@pytest.mark.parametrize("command", [
    ["personal-data", "--value", "yes", "--aware-at", "2026-11-20T11:00:00+01:00"],
    ["assess", "--file", "ASSESSMENT"],
])
def test_breach_commands_are_refused_on_a_dismissed_incident(cli, tmp_path, store, command):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00")["ref"]
    ok(cli, "watch", "--at", "2026-11-20T10:05:00+01:00")
    ok(cli, "dismiss", ref, "--reason", "Doublon de INC-2026-0001", "--by", TRIAGER,
       "--at", "2026-11-20T10:30:00+01:00")
    before = snapshot(store)
    args = [write(tmp_path, "a.yaml", ASSESSMENT) if part == "ASSESSMENT" else part for part in command]
    by = DPD if command[0] == "assess" else TRIAGER
    result = cli(command[0], ref, *args[1:], "--by", by, "--at", "2026-11-20T11:00:00+01:00")
    assert result.exit_code == 1
    assert f"l'incident {ref} est classé sans suite" in result.stderr
    assert snapshot(store) == before
    assert [o for o in shown(cli, ref)["obligations"] if o["kind"] == "cnil_notification"] == []


def test_a_message_being_sent_when_its_incident_is_dismissed_is_not_retried(plain_cli):
    from sqlmodel import select

    from models.commands import RecordFailure
    from models.db import session_scope
    from models.door import ENGINE, execute
    from models.messaging import claim_batch
    from models.outbox import MessageStatus, OutboxMessage
    from notifications.delivery import deliverable_ids

    now = pendulum.datetime(2026, 11, 20, 9, 10)
    ref = door_declared("2026-11-20T09:00:00+01:00", now.isoformat())
    with session_scope() as session:  # a delivery attempt holds the first alert, SMTP has not answered yet
        assert claim_batch(session, token="attempt", replay_now=now, lease_seconds=120, limit=1) == [1]
    ok(plain_cli, "dismiss", ref, "--reason", "Hors ENT", "--by", TRIAGER, "--at", "2026-11-20T10:11:00+01:00")
    with session_scope() as session:  # ...then the relay refuses it
        execute(session, RecordFailure(incident_id=1, message_id=1, error="451 try later"), ENGINE, now)
    with session_scope() as session:
        statuses = {m.status for m in session.exec(select(OutboxMessage)).all()}
    assert statuses == {MessageStatus.CANCELLED}
    assert deliverable_ids(now.add(days=1)) == []


def test_a_filing_or_an_information_dated_before_the_decision_is_refused(cli, tmp_path, store):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    ok(cli, "watch", "--at", "2026-11-20T10:05:00+01:00")
    ok(cli, "assess", ref, "--file", write(tmp_path, "a.yaml", ASSESSMENT), "--by", DPD,
       "--at", "2026-11-20T12:00:00+01:00")
    ok(cli, "decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD, "--at", "2026-11-20T14:00:00+01:00")
    before = snapshot(store)
    filed = cli("cnil-filed", ref, "--reference", "CNIL-1", "--filed-at", "2026-11-20T13:00:00+01:00", "--by", DPD,
                "--at", "2026-11-20T15:00:00+01:00")
    informed = cli("subjects-informed", ref, "--channel", "ENT", "--informed-at", "2026-11-20T13:30:00+01:00",
                   "--by", DPD, "--at", "2026-11-20T15:00:00+01:00")
    assert (filed.exit_code, informed.exit_code) == (2, 2)
    assert "champ « --filed-at » : le dépôt ne peut pas précéder la décision du DPD (20/11/2026 14:00)" in filed.stderr
    assert "champ « --informed-at » : l'information ne peut pas précéder la décision" in informed.stderr
    assert snapshot(store) == before
    # A late filing is recorded at its own time, in the past, by the DPD: the clock's lateness is frozen there.
    ok(cli, "cnil-filed", ref, "--reference", "CNIL-1", "--filed-at", "2026-11-23T15:00:00+01:00", "--by", DPD)
    cnil = obligation(shown(cli, ref), "cnil_notification")
    assert (cnil["status"], cnil["late_by_seconds"]) == ("late", 6 * 3600)
    [entry] = [e for e in timeline_of(cli, ref) if e["kind"] == "cnil_filed"]
    assert entry["occurred_at"] == "2026-11-23T15:00:00+01:00"
    assert pendulum.parse(entry["recorded_at"]) > pendulum.parse(entry["occurred_at"])  # the wall clock


def test_a_declaration_whose_occurrence_follows_its_awareness_is_refused(cli, tmp_path, store):
    path = write_declaration(tmp_path, occurred_at="2026-11-20T12:00:00+01:00", aware_at="2026-11-20T09:00:00+01:00")
    result = cli("declare", str(path), "--by", REFERENT, "--at", "2026-11-20T13:00:00+01:00")
    assert result.exit_code == 2
    assert "occurred_at" in result.stderr and "Traceback" not in result.output


def test_a_change_without_a_person_or_by_an_unknown_one_is_refused(cli, tmp_path, store, monkeypatch):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00")["ref"]
    ok(cli, "watch", "--at", "2026-11-20T10:05:00+01:00")
    before = snapshot(store)
    monkeypatch.delenv("INCIDENTS_ACTOR")
    nobody = cli("triage", ref, "--scope", "municipality", "--at", "2026-11-20T11:00:00+01:00")
    assert nobody.exit_code == 2 and "champ « --by » : indiquez qui agit" in nobody.stderr
    for forged in ('=HYPERLINK("http://evil.example","x")', '<img src=x onerror=alert(1)>', "x" * 5000):
        result = cli("triage", ref, "--scope", "municipality", "--by", forged, "--at", "2026-11-20T11:00:00+01:00")
        assert result.exit_code == 2 and "champ « --by »" in result.stderr
    auditor = cli("triage", ref, "--scope", "municipality", "--by", AUDITOR, "--at", "2026-11-20T11:00:00+01:00")
    assert auditor.exit_code == 1 and "n'a pas le rôle requis" in auditor.stderr
    assert snapshot(store) == before


def test_waivers_and_opened_clocks_are_on_the_timeline_with_their_person(cli, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    ok(cli, "watch", "--at", "2026-11-20T10:05:00+01:00")
    ok(cli, "assess", ref, "--file", write(tmp_path, "a.yaml", ASSESSMENT), "--by", DPD,
       "--at", "2026-11-20T12:00:00+01:00")
    ok(cli, "decide", ref, "--cnil", "no", "--subjects", "yes", "--by", DPD, "--rationale", "Risque pour les élèves.",
       "--at", "2026-11-20T14:00:00+01:00")
    entries = {(e["kind"], e["payload"].get("obligation"), e["actor"]) for e in timeline_of(cli, ref)}
    assert ("obligation_waived", "cnil_notification", DPD) in entries
    assert ("obligation_opened", "subjects_communication", DPD) in entries


@pytest.mark.real_store
def test_on_a_real_store_a_command_that_writes_never_replays_another_instant(plain_cli, tmp_path, store):
    ref = door_declared("2026-11-20T09:00:00+01:00", pendulum.now("UTC").isoformat())
    before = snapshot(store)
    for moment in (pendulum.now("Europe/Paris").add(days=1), pendulum.now("Europe/Paris").subtract(days=30)):
        for args in (["watch"], ["dismiss", ref, "--reason", "Doublon", "--by", TRIAGER],
                     ["declare", str(tmp_path / "missing.yaml"), "--by", REFERENT]):
            result = plain_cli(*args, "--at", moment.isoformat())
            assert result.exit_code == 2, args
            assert "champ « --at » : rejouer à un autre instant n'est admis que sur un registre de simulation" \
                in result.stderr
    assert snapshot(store) == before
    tomorrow = pendulum.now("Europe/Paris").add(days=1).isoformat()
    ok(plain_cli, "list", "--at", tomorrow)  # a read may look ahead
    ok(plain_cli, "watch", "--dry-run", "--at", tomorrow)

    drill = tmp_path / "drill.db"
    refused = plain_cli("simulate", str(drill), "--by", TRIAGER)
    assert refused.exit_code == 1 and not drill.exists()
    ok(plain_cli, "simulate", str(drill), "--by", ADMIN)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{drill}")
        ok(plain_cli, "dismiss", ref, "--reason", "Exercice", "--by", TRIAGER, "--at", tomorrow)
        assert shown(plain_cli, ref)["status"] == "dismissed"
    assert shown(plain_cli, ref)["status"] == "queued"  # the real store is untouched
    assert snapshot(store) == before


def test_a_drill_mails_only_to_files_of_its_own_marked_as_an_exercise(plain_cli, tmp_path, monkeypatch):
    import asyncio

    from flows.steps import deliver_due

    monkeypatch.setenv("INCIDENTS_SMTP_HOST", "relay.example.org")  # a real relay: never used by a simulation
    ref = door_declared("2026-11-20T09:00:00+01:00", "2026-11-20T10:00:00+01:00")
    report = asyncio.run(deliver_due(pendulum.datetime(2026, 11, 20, 9, 5)))
    assert len(report.delivered) == 3  # the two alerts and the declarant's receipt
    files = sorted((tmp_path / "var" / "simulations" / "incidents" / "mail" / ref).glob("*.eml"))
    assert len(files) == 3 and not (tmp_path / "var" / "mail").exists()
    assert all(b"X-Incidents-Exercice: oui" in path.read_bytes() for path in files)


def test_a_personal_data_breach_cannot_be_confined_to_one_party_by_triage(cli, tmp_path, store):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    before = snapshot(store)
    result = cli("triage", ref, "--scope", "academy", "--reason", "Annuaire", "--by", TRIAGER,
                 "--at", "2026-11-20T11:00:00+01:00")
    assert result.exit_code == 1 and "relève au moins du champ partagé" in result.stderr
    assert snapshot(store) == before


def test_a_decision_taken_before_it_was_recorded_keeps_its_own_time(cli, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    ok(cli, "assess", ref, "--file", write(tmp_path, "a.yaml", ASSESSMENT), "--by", DPD,
       "--at", "2026-11-20T12:00:00+01:00")
    early = cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD,
                "--decided-at", "2026-11-20T11:00:00+01:00", "--at", "2026-11-21T09:00:00+01:00")
    assert early.exit_code == 2 and "la décision ne peut pas précéder l'évaluation" in early.stderr
    ok(cli, "decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD,
       "--decided-at", "2026-11-20T16:00:00+01:00", "--at", "2026-11-21T09:00:00+01:00")
    ok(cli, "cnil-filed", ref, "--reference", "CNIL-9", "--filed-at", "2026-11-20T17:00:00+01:00", "--by", DPD,
       "--at", "2026-11-21T09:05:00+01:00")
    [decided] = [e for e in timeline_of(cli, ref) if e["kind"] == "breach_decided"]
    assert decided["occurred_at"] == "2026-11-20T16:00:00+01:00"
    subjects = obligation(shown(cli, ref), "subjects_communication")
    assert subjects["anchor_at"] == "2026-11-20T16:00:00+01:00"


def door_declared(aware_at: str, at: str) -> str:
    """Declared through the door only, with no orchestration: the incident stays queued, its alerts pending."""
    from models.commands import Declare
    from models.db import session_scope
    from models.declaration import parse_declaration
    from models.door import execute
    from settings.parties import load_parties
    from tests.conftest import BASE_DECLARATION

    now, parties = pendulum.parse(at), load_parties()
    with session_scope() as session:
        declaration = parse_declaration({**BASE_DECLARATION, "aware_at": aware_at}, parties, now)
        return str(execute(session, Declare(declaration), parties.person(REFERENT), now, parties).ref)


def test_watch_dry_run_sends_nothing_and_writes_nothing(cli, store, smtp):
    ref = door_declared("2026-11-20T09:00:00+01:00", "2026-11-20T10:00:00+01:00")
    before = snapshot(store)
    preview = json.loads(ok(cli, "watch", "--dry-run", "--json", "--at", "2026-11-21T10:00:00+01:00"))
    assert preview["would_take_in"] == [ref]
    assert preview["would_take_steps"] == [{"ref": ref, "obligation": "cross_party_alert", "step": "reminder_50",
                                            "skipped": []}]
    assert preview["would_deliver"] == 3  # the two alerts and the declarant's receipt
    assert snapshot(store) == before and smtp.received == []
    text = ok(cli, "watch", "--dry-run", "--at", "2026-11-21T10:00:00+01:00")
    assert "rien n'est écrit ni envoyé" in text
    ok(cli, "watch", "--at", "2026-11-21T10:00:00+01:00")  # the real pass then does it
    assert len(smtp.received) >= 2 and snapshot(store) != before


def test_the_alerted_party_acknowledges_once_and_is_reminded_once_if_it_does_not(cli, tmp_path, smtp):
    quiet = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00")["ref"]
    prompt = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00")["ref"]
    # intake delivered both alerts to the académie at 10:00
    refused = cli("acknowledge", prompt, "--by", REFERENT, "--at", "2026-11-20T11:00:00+01:00")
    assert refused.exit_code == 1 and "la partie alertée" in refused.stderr  # the commune alerted, not alerted
    ok(cli, "acknowledge", prompt, "--by", TRIAGER, "--at", "2026-11-20T11:00:00+01:00")
    again = cli("acknowledge", prompt, "--by", DPD, "--at", "2026-11-20T11:30:00+01:00")
    assert again.exit_code == 1 and "déjà" in again.stderr
    assert shown(cli, prompt)["acknowledgement"] == {"at": "2026-11-20T11:00:00+01:00", "by": TRIAGER}

    smtp.received.clear()
    ok(cli, "watch", "--at", "2026-11-21T10:06:00+01:00")  # 24 h after delivery
    ok(cli, "watch", "--at", "2026-11-22T10:06:00+01:00")
    reminders = [(r, s) for r, s in smtp.subjects() if "accuser réception" in s]
    assert reminders == sorted((address, f"[{quiet}] Rappel : merci d'accuser réception de l'alerte – "
                                          "Villers-lès-Exemple")
                               for address in ("dsden54-numerique@ac-nancy-metz.example.org",
                                               "rssi@ac-nancy-metz.example.org"))
    audit = json.loads(ok(cli, "audit", prompt, "--format", "json"))
    assert audit["acknowledgement"] == {"at": "2026-11-20T11:00:00+01:00", "by": TRIAGER}
    report = json.loads(ok(cli, "report", "steering", "--from", "2026-11-01", "--to", "2026-11-30",
                           "--format", "json"))
    # intake delivered the alert at 10:00, acknowledged at 11:00
    assert (report["alerts"]["acknowledged"], report["alerts"]["time_to_acknowledge_hours"]) == (1, [1.0])


def test_a_running_breach_clock_is_not_dismissed_around_the_dpd(cli, tmp_path, store):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    before = snapshot(store)
    result = cli("dismiss", ref, "--reason", "Doublon", "--by", TRIAGER, "--at", "2026-11-20T11:00:00+01:00")
    assert result.exit_code == 1 and "seul le DPD de la partie qui notifie peut le lever" in result.stderr
    assert snapshot(store) == before
    ok(cli, "personal-data", ref, "--value", "no", "--aware-at", "2026-11-20T11:00:00+01:00", "--by", DPD,
       "--reason", "Doublon de INC-2026-0001, qui porte la notification.", "--at", "2026-11-20T11:00:00+01:00")
    ok(cli, "dismiss", ref, "--reason", "Doublon", "--by", TRIAGER, "--at", "2026-11-20T11:05:00+01:00")


def test_event_times_need_their_offset_and_a_complementary_filing_follows_the_initial(cli, tmp_path, store):
    ref = declared(cli, tmp_path, aware_at="2026-11-20T09:00:00+01:00", at="2026-11-20T10:00:00+01:00",
                   **BREACH)["ref"]
    ok(cli, "assess", ref, "--file", write(tmp_path, "a.yaml", ASSESSMENT), "--by", DPD,
       "--at", "2026-11-20T12:00:00+01:00")
    ok(cli, "decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD, "--at", "2026-11-20T14:00:00+01:00")
    before = snapshot(store)
    for when in ("2026-11-20T15:00:00", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-14:00"):
        naive = cli("cnil-filed", ref, "--reference", "CNIL-1", "--filed-at", when, "--by", DPD,
                    "--at", "2026-11-20T16:00:00+01:00")
        assert naive.exit_code == 2 and "champ « --filed-at »" in naive.stderr, when
    assert snapshot(store) == before
    ok(cli, "cnil-filed", ref, "--reference", "CNIL-1", "--filed-at", "2026-11-20T15:00:00+01:00", "--by", DPD,
       "--at", "2026-11-20T16:00:00+01:00")
    early = cli("cnil-filed", ref, "--complementary", "--reference", "CNIL-1b", "--filed-at",
                "2026-11-20T14:30:00+01:00", "--by", DPD, "--at", "2026-11-20T16:00:00+01:00")
    assert early.exit_code == 2 and "ne peut pas précéder la notification initiale" in early.stderr


def test_a_register_cell_that_looks_like_a_formula_is_exported_inert():
    from rendering.tables import to_csv

    text = to_csv([{"nature": '=HYPERLINK("http://evil.example","x")', "measures": "@SUM(1+1)", "n": -3}],
                  ["nature", "measures", "n"])
    assert text.splitlines()[1] == '"\'=HYPERLINK(""http://evil.example"",""x"")";\'@SUM(1+1);-3'


def test_a_drill_copy_never_signs_in_the_registers_name(plain_cli, store, tmp_path):
    """A copy made by `incidents simulate` shares the register's key and var/: a checkpoint signed there would be a
    validly signed fork of the real journal, and would make the real register look rewritten."""
    from models.checkpoints import last_signed_file

    declared_ref = plain_cli("declare", str(write_declaration(tmp_path)), "--json", "--by", REFERENT)
    assert declared_ref.exit_code == 0, declared_ref.output
    ok(plain_cli, "checkpoint")
    kept = last_signed_file().read_text(encoding="utf-8")
    drill = tmp_path / "drill.db"
    ok(plain_cli, "simulate", str(drill), "--by", ADMIN)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{drill}")
        ok(plain_cli, "watch", "--at", pendulum.now("Europe/Paris").add(days=10).isoformat())
        refused = plain_cli("checkpoint")
        assert refused.exit_code != 0
        assert "ce registre est une copie d'exercice ; seul le registre réel signe au nom du journal" \
            in refused.stderr
    assert last_signed_file().read_text(encoding="utf-8") == kept
    ok(plain_cli, "checkpoint")  # the real register still signs
    status = plain_cli("verify")
    assert status.exit_code == 0, status.output
