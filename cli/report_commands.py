"""Commands for auditors: timeline, audit, steering report, export, verify."""

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.app import AtOption, ByOption, JsonOption, app, emit_json, fail, instant, person, user_errors
from cli.views import ENTRY_LABELS
from models.db import session_scope
from models.queries import readable_incident, require_whole_store
from models.timeline import verify_chain
from settings.parties import load_parties

OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Fichier de sortie (sinon la sortie "
                                                                          "standard).")]
report_app = typer.Typer(help="Rapports périodiques.", no_args_is_help=True)
app.add_typer(report_app, name="report")


class TimelineFormat(StrEnum):
    TEXT = "text"
    JSONL = "jsonl"
    CSV = "csv"
    HTML = "html"


class AuditFormat(StrEnum):
    HTML = "html"
    JSON = "json"


class SteeringFormat(StrEnum):
    HTML = "html"
    JSON = "json"
    MD = "md"


def emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from models.db import get_engine

    database = get_engine().url.database
    if database and output.resolve() == Path(database).resolve():
        fail("Refusé : champ « --output » : c'est le fichier du registre lui-même.", 2)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"Refusé : champ « --output » : écriture impossible ({error.strerror or type(error).__name__}).", 2)
    typer.echo(f"Écrit : {output}")


@app.command()
def timeline(ref: str, fmt: Annotated[TimelineFormat, typer.Option("--format", help="text, jsonl, csv ou html.")]
             = TimelineFormat.TEXT, as_json: JsonOption = False, output: OutputOption = None,
             by: ByOption = None, at: AtOption = None) -> None:
    """La chronologie d'un incident : les deux instants, l'acteur, la partie, l'événement et l'empreinte."""
    from rendering.environment import render_document
    from rendering.rows import timeline_rows
    from reports.timeline import render_rows, timeline_page

    with user_errors(), session_scope() as session:
        now = instant(at, writes=False)
        incident = readable_incident(session, ref, person(by))
        rows = timeline_rows(session, incident)
        page = timeline_page(session, incident, now) if fmt is TimelineFormat.HTML else None
    if as_json:
        emit_json([{k: v for k, v in row.items() if k not in ("description", "late")} for row in rows])
    elif page is not None:
        emit(render_document("reports/timeline.html.j2", page), output)
    elif fmt is TimelineFormat.TEXT:
        emit("".join(f"{_short(row['occurred_at'])}  (consigné {_short(row['recorded_at'])})  "
                     f"{ENTRY_LABELS.get(row['kind'], row['kind']):<34} {row['actor']} : {row['description']}"
                     f"  #{row['seq']} {row['hash'][:12]}\n" for row in rows), output)
    else:
        emit(render_rows(rows, fmt.value), output)


@app.command()
def audit(ref: str, fmt: Annotated[AuditFormat, typer.Option("--format", help="html ou json.")] = AuditFormat.HTML,
          output: OutputOption = None, by: ByOption = None, at: AtOption = None) -> None:
    """Le dossier d'audit d'un incident, avec la preuve d'intégrité de sa chronologie."""
    import json

    from rendering.environment import render_document
    from reports.audit import audit_data

    with user_errors(), session_scope() as session:
        data = audit_data(session, readable_incident(session, ref, person(by)), instant(at, writes=False))
    if fmt is AuditFormat.JSON:
        emit(json.dumps(data, ensure_ascii=False, indent=2) + "\n", output)
    else:
        emit(render_document("reports/audit.html.j2", data), output)


@report_app.command("steering")
def steering(start: Annotated[str, typer.Option("--from", help="Premier jour (AAAA-MM-JJ).")],
             end: Annotated[str, typer.Option("--to", help="Dernier jour inclus (AAAA-MM-JJ).")],
             fmt: Annotated[SteeringFormat, typer.Option("--format", help="html, json ou md.")] = SteeringFormat.HTML,
             output: OutputOption = None, by: ByOption = None) -> None:
    """Rapport au comité de pilotage sur une période (personnes de l'académie)."""
    from reports.render import render_steering
    from reports.steering import steering_data

    with user_errors():
        require_whole_store(person(by), "le rapport au comité de pilotage")
        first, last = _day(start, "--from"), _day(end, "--to")
        if last < first:
            fail("Refusé : champ « --to » : le dernier jour précède le premier.", 2)
        with session_scope() as session:
            data = steering_data(session, first, last, load_parties())
    emit(render_steering(data, fmt.value), output)


@app.command()
def export(fmt: Annotated[str, typer.Option("--format", help="jsonl.")] = "jsonl", output: OutputOption = None,
           by: ByOption = None, at: AtOption = None) -> None:
    """Exporter tout le registre (JSON lines) avec la tête de chaîne, pour l'archivage (personnes de l'académie)."""
    from reports.export import export_lines

    with user_errors():
        require_whole_store(person(by), "l'export complet du registre")
        if fmt != "jsonl":
            fail("Refusé : champ « --format » : seul « jsonl » est proposé.", 2)
        with session_scope() as session:
            text = "".join(export_lines(session, instant(at, writes=False)))
    emit(text, output)


@app.command()
def verify(export_file: Annotated[Path | None, typer.Option("--export", help="Vérifier un export hors ligne, "
                                                                            "sans le registre.")] = None,
           by: ByOption = None) -> None:
    """Vérifier l'intégrité de la chaîne de la chronologie (du registre, ou d'un export)."""
    if export_file is not None:
        from reports.export import verify_export

        if not export_file.is_file():
            fail(f"Refusé : champ « --export » : pas un fichier ordinaire ({export_file}).", 2)
        try:
            with export_file.open(encoding="utf-8") as lines:
                check = verify_export(lines)
        except (OSError, UnicodeDecodeError, RecursionError, MemoryError) as error:
            fail(f"Refusé : champ « --export » : fichier illisible ({type(error).__name__}).", 2)
        if not check.ok:
            fail(f"Export invalide à la ligne {check.bad_line} : {check.problem}.")
        typer.echo(f"Export intègre : {check.lines} lignes, {check.entries} entrées, empreinte de tête "
                   f"{check.head_hash}.")
        return
    with user_errors():
        person(by)  # any declared person may check the proof: it shows counts and hashes, nothing of an incident
        with session_scope() as session:
            report = verify_chain(session)
    if not report.ok:
        where = f" (incident {report.first_bad_ref})" if report.first_bad_ref else ""
        fail(f"Chaîne rompue à l'entrée n° {report.first_bad_seq}{where} : {report.problem}.")
    typer.echo(f"Chaîne intègre : {report.entries} entrées, empreinte de tête {report.head_hash}.")


def _short(iso_paris: str) -> str:
    """An instant in a terminal column: Paris time to the second, offset kept (it changes with DST)."""
    return iso_paris[:19].replace("T", " ") + iso_paris[-6:] if "." in iso_paris else iso_paris.replace("T", " ")


def _day(value: str, field: str) -> date:
    from models.errors import FieldError, InvalidInput

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput([FieldError(field, "doit être une date AAAA-MM-JJ")]) from None
