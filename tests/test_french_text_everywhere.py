"""Over a seeded set of incidents in every state, with every kind of mail sent: the text of every mail, draft and
report, and every human output of the command line, holds no internal code, no English word of the CLI framework,
and only words known to the French dictionary or to the project's word list (printed)."""

import asyncio
import html
import io
import json
import re
from email.message import EmailMessage
from pathlib import Path

import docx
import pendulum
import pytest
from odf import teletype
from odf.opendocument import load as odf_load
from odf.text import H, P
from pypdf import PdfReader
from sqlmodel import select
from typer.main import get_command

from cli.main import app
from flows.reporting import steering_report
from models.commands import RequestSignIn
from models.db import session_scope
from models.door import run
from models.outbox import TEMPLATE_LABELS, MessageStatus, OutboxMessage
from settings.parties import load_parties
from tests.conftest import ACADEMY_ALERTS, AUDITOR, DPD, REFERENT, TRIAGER, Cli, write_declaration
from tests.french_text import NOT_PROSE, WORD_LIST, problems, project_words
from tests.seed import seed

pytestmark = pytest.mark.slow  # a seeded register of two dozen incidents, every mail and report read through
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
T0 = "2026-11-28T10:00:00+01:00"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def ok(cli: Cli, *args: str, codes: tuple[int, ...] = (0,)) -> str:
    result = cli(*args)
    assert result.exit_code in codes, (args, result.output)
    return str(result.stdout)


def mail_texts(message: EmailMessage) -> list[str]:
    """The subject, the bodies and the drafts attached (as text and as the documents a DPD opens); not the
    timeline's CSV, whose columns are codes for a spreadsheet, nor the calendar file."""
    texts = [str(message["Subject"])]
    for part in message.walk():
        kind, name = part.get_content_type(), part.get_filename() or ""
        if kind in ("text/plain", "text/html") and not name.endswith(".csv"):
            texts.append(str(part.get_content()))
        elif name.endswith(".docx"):
            texts.append("\n".join(p.text for p in docx.Document(io.BytesIO(part.get_content())).paragraphs))
        elif name.endswith(".odt"):
            document = odf_load(io.BytesIO(part.get_content()))
            texts.append("\n".join(teletype.extractText(p) for p in document.getElementsByType(P)
                                   + document.getElementsByType(H)))
    return texts


def pdf_text(path: Path, same_as_html: str) -> str:
    """The PDF's text; a hash or an address that the page broke over two lines leaves fragments, which are dropped
    when the same document's HTML shows them whole (as what is not prose, or quoted as code: a signed checkpoint)."""
    whole = NOT_PROSE.findall(same_as_html) + [html.unescape(quoted) for quoted in
                                               re.findall(r"<code\b[^>]*>(.*?)</code>", same_as_html, flags=re.S)]
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(token for token in text.split() if not any(token in item for item in whole))


def every_command(group: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += every_command(command, (*path, name))
    return found


@pytest.fixture
def seeded_world(cli: Cli, smtp, tmp_path: Path) -> dict[str, str]:
    """Seeded incidents, plus the mails the seed does not send: a follow-up, a failing then recovered delivery, a
    sign-in link. Returns every text a person would read, by where it comes from."""
    refs = seed(cli, tmp_path).refs
    # A delivery that keeps failing (its failure notice), then gets through (the recovery notice).
    smtp.defer.add(ACADEMY_ALERTS[0])
    late = json.loads(ok(cli, "declare", str(write_declaration(tmp_path, "late.yaml", title="Annuaire exposé")),
                         "--json", "--by", REFERENT, "--at", T0))["ref"]
    for at in ("10:01", "10:03", "10:07", "10:15"):
        ok(cli, "watch", "--at", f"2026-11-28T{at}:00+01:00")
    smtp.defer.clear()
    ok(cli, "watch", "--at", "2026-11-28T10:31:00+01:00")
    ok(cli, "follow-up", late, "--file", str(EXAMPLES / "follow-up.yaml"), "--by", REFERENT,
       "--at", "2026-11-28T11:00:00+01:00")
    person = load_parties().person(REFERENT)
    assert person is not None
    run(RequestSignIn(token="t" * 43, link="http://127.0.0.1:8080/connexion/lien/" + "t" * 43), person,
        pendulum.parse("2026-11-28T11:05:00+01:00"))
    ok(cli, "watch", "--at", "2026-11-28T11:06:00+01:00")
    asyncio.run(steering_report(at="2026-12-01T07:00:00+01:00"))

    texts: dict[str, str] = {}
    for index, mail in enumerate(smtp.received):
        for part, text in enumerate(mail_texts(mail.message)):
            texts[f"courriel {index} ({mail.message['Subject']}) partie {part}"] = text
    texts.update(cli_outputs(cli, refs + [late], tmp_path))
    return texts


def cli_outputs(cli: Cli, refs: list[str], folder: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for path in every_command(get_command(app)):
        outputs[f"aide {' '.join(path) or 'incidents'}"] = ok(cli, *path, "--help")
    outputs["list"] = ok(cli, "list", "--by", AUDITOR)
    for ref in refs:
        outputs[f"show {ref}"] = ok(cli, "show", ref, "--by", AUDITOR)
        outputs[f"timeline {ref}"] = ok(cli, "timeline", ref, "--by", AUDITOR)
    for ref in refs[:8]:
        outputs[f"timeline html {ref}"] = ok(cli, "timeline", ref, "--format", "html", "--by", AUDITOR)
        outputs[f"audit {ref}"] = ok(cli, "audit", ref, "--by", AUDITOR)
    outputs["status"] = ok(cli, "status", "--by", TRIAGER, codes=(0, 3))  # 3: something to watch
    outputs["watch --dry-run"] = ok(cli, "watch", "--dry-run", "--at", "2026-12-20T10:00:00+01:00")
    outputs["verify"] = ok(cli, "verify")
    outputs["register html"] = ok(cli, "register", "--format", "html", "--by", DPD)
    for fmt in ("md", "html"):
        outputs[f"steering {fmt}"] = ok(cli, "report", "steering", "--from", "2026-09-01", "--to", "2026-11-30",
                                        "--format", fmt, "--by", AUDITOR)
    ok(cli, "report", "steering", "--from", "2026-09-01", "--to", "2026-11-30", "--format", "pdf",
       "--output", str(folder / "steering.pdf"), "--by", AUDITOR)
    outputs["steering pdf"] = pdf_text(folder / "steering.pdf", outputs["steering html"])
    ok(cli, "audit", refs[0], "--format", "pdf", "--output", str(folder / "audit.pdf"), "--by", AUDITOR)
    outputs["audit pdf"] = pdf_text(folder / "audit.pdf", outputs[f"audit {refs[0]}"])
    return outputs


def test_no_code_no_english_and_every_word_french(seeded_world: dict[str, str], cli: Cli) -> None:
    with session_scope() as session:
        sent = set(session.exec(select(OutboxMessage.template).where(OutboxMessage.status == MessageStatus.SENT)))
    print(f"\nListe de mots du projet ({WORD_LIST.name}) : {', '.join(sorted(project_words()))}")
    print(f"{len(seeded_world)} textes lus.")
    ARTIFACTS.mkdir(exist_ok=True)  # for a reader of a failure: every text as read
    (ARTIFACTS / "french_texts.json").write_text(json.dumps(seeded_world, ensure_ascii=False, indent=1),
                                                 encoding="utf-8")
    assert problems(seeded_world) == {}
    # Every record the door wrote in this busy world is the one its entries attest (no false alarm).
    assert "les enregistrements correspondent à ce qu'elle atteste" in ok(cli, "verify", "--by", AUDITOR)
    assert not [name for name, text in seeded_world.items() if "ne correspondent plus" in text]
    assert sent == set(TEMPLATE_LABELS), "every kind of mail was sent, and read above"
