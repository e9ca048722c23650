"""The monthly steering report as a Prefect flow: written under var/reports/ and mailed to the steering contacts
once, however often the flow runs for that month."""

import asyncio
import json

import pendulum
import pytest
from sqlmodel import select

from flows.reporting import steering_report
from models import door
from models.commands import MailSteeringReport
from models.db import session_scope
from models.errors import Refused
from models.outbox import OutboxMessage
from policy.transitions import Role
from settings.parties import load_parties
from tests.walkers import declared

STEERING = "copil-ent@ac-nancy-metz.example.org"


def test_the_monthly_report_is_written_and_mailed_once(cli, smtp, tmp_path):
    declared(cli, tmp_path, aware_at="2026-10-12T09:00:00+02:00", at="2026-10-12T10:00:00+02:00")
    assert cli("watch", "--at", "2026-10-12T11:00:00+02:00").exit_code == 0  # a pass: it signs a checkpoint

    first = asyncio.run(steering_report(at="2026-11-01T07:00:00+01:00"))
    second = asyncio.run(steering_report(at="2026-11-01T07:05:00+01:00"))

    assert (first["month"], first["incidents"], first["mails"], first["delivered"]) == ("2026-10", 1, 1, 1)
    assert (second["mails"], second["delivered"]) == (0, 0)
    folder = tmp_path / "var" / "reports"
    assert sorted(p.name for p in folder.iterdir()) == ["steering-2026-10.html", "steering-2026-10.json",
                                                        "steering-2026-10.md", "steering-2026-10.pdf"]
    assert (folder / "steering-2026-10.pdf").read_bytes().startswith(b"%PDF-")
    assert json.loads((folder / "steering-2026-10.json").read_text(encoding="utf-8"))["incidents"] == 1
    [mail] = smtp.to(STEERING)
    assert mail.message["Subject"] == "Rapport au comité de pilotage de l'ENT — octobre 2026"
    assert "| Incidents | 1 |" in mail.text and "| octobre 2026 | 0 | 0 | 1 | 0 | 1 | 0 |" in mail.text
    # The latest signed checkpoint, printed as signed: a reader keeps it and checks it with the public key alone.
    from models.checkpoints import log_name, public_key
    from proof.checkpoint import open_checkpoint

    printed = mail.text.replace("\r\n", "\n").split("```\n")[1].split("```")[0]
    assert printed.startswith(log_name() + "\n")
    assert open_checkpoint(printed, public_key()).size > 0
    assert printed.split("\n")[2] in (folder / "steering-2026-10.html").read_text(encoding="utf-8")


def test_only_the_engine_mails_the_steering_report_and_only_through_the_door(cli, smtp, tmp_path):
    """A person, even of the steering committee, cannot queue the month's report: the door says only the engine
    does, and nothing is queued."""
    person = next(person for person in load_parties().people.values() if Role.STEERING in person.roles)
    report = MailSteeringReport(month="2026-10", subject="Rapport", text="texte", html="<p>texte</p>")

    with pytest.raises(Refused, match="seul le moteur le fait"):
        door.run(report, person, pendulum.now("UTC"))
    with session_scope() as session:
        assert session.exec(select(OutboxMessage)).all() == []
    assert [message.recipient_email for message in door.run(report, door.ENGINE, pendulum.now("UTC"))] == [STEERING]
