"""Commands for auditors: timeline, audit, steering report, export, verify.

The store and the renderers are imported inside each command: see cli/app.py on start-up."""

import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.app import AtOption, ByOption, JsonOption, RefArgument, app, emit_json, fail, instant, person, user_errors
from cli.french import FrenchTyper
from cli.views import formats_help
from models.errors import cause

OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Fichier de sortie (sinon la sortie "
                                                                          "standard).")]
report_app = FrenchTyper(help="Rapports périodiques.", no_args_is_help=True)
app.add_typer(report_app, name="report")


class TimelineFormat(StrEnum):
    TEXT = "text"
    JSONL = "jsonl"
    CSV = "csv"
    HTML = "html"


class AuditFormat(StrEnum):
    HTML = "html"
    JSON = "json"
    PDF = "pdf"


class SteeringFormat(StrEnum):
    HTML = "html"
    JSON = "json"
    MD = "md"
    PDF = "pdf"


def emit(text: str | bytes, output: Path | None) -> None:
    if output is None:
        if isinstance(text, bytes):
            typer.get_binary_stream("stdout").write(text)
            return
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from models.db import get_engine

    database = get_engine().url.database
    if database and output.resolve() == Path(database).resolve():
        fail("Refusé : champ « --output » : c'est le fichier du registre lui-même.", 2)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            output.write_bytes(text)
        else:
            output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"Refusé : champ « --output » : écriture impossible ({cause(error)}).", 2)
    typer.echo(f"Écrit : {output}")


def refuse_pdf_on_a_terminal(output: Path | None) -> None:
    """A PDF is bytes for a file or a pipe: on a terminal it would only scramble the screen."""
    if output is None and sys.stdout.isatty():
        fail("Refusé : champ « --output » : un PDF ne s'affiche pas dans un terminal ; indiquez le fichier à "
             "écrire (par exemple --output rapport.pdf) ou redirigez la sortie vers un fichier.", 2)


def emit_pdf(draw: Callable[[], bytes], output: Path | None) -> None:
    """Write the PDF `draw` makes; a machine without WeasyPrint's libraries gets a French message, not a trace."""
    from reports.pdf import PdfUnavailable

    try:
        pdf = draw()
    except PdfUnavailable as error:
        fail(str(error), 1)
    emit(pdf, output)


@app.command()
def timeline(ref: RefArgument,
             fmt: Annotated[TimelineFormat, typer.Option("--format", help=f"{formats_help(TimelineFormat)}.")]
             = TimelineFormat.TEXT, as_json: JsonOption = False, output: OutputOption = None,
             by: ByOption = None, at: AtOption = None) -> None:
    """La chronologie d'un incident : les deux instants, l'acteur, la partie, l'événement et l'empreinte."""
    from models.db import read_scope
    from models.gate import readable_commune
    from models.queries import readable_incident
    from rendering.rows import timeline_rows
    from reports.timeline import render_rows, render_text, timeline_page

    with user_errors(), read_scope() as session:
        now = instant(at, writes=False)
        reader = person(by)
        incident, commune = readable_incident(session, ref, reader), readable_commune(reader)
        rows = timeline_rows(session, incident, commune)
        page = timeline_page(session, incident, now, commune) if fmt is TimelineFormat.HTML else None
    if as_json:
        emit_json([{k: v for k, v in row.items() if k not in ("description", "late")} for row in rows])
    elif page is not None:
        from rendering.environment import render_document  # Jinja, for the HTML page only

        emit(render_document("reports/timeline.html.j2", page), output)
    elif fmt is TimelineFormat.TEXT:
        emit(render_text(incident.ref, rows), output)
    else:
        emit(render_rows(rows, fmt.value), output)


@app.command()
def audit(ref: RefArgument,
          fmt: Annotated[AuditFormat, typer.Option("--format", help=f"{formats_help(AuditFormat)}.")]
          = AuditFormat.HTML,
          output: OutputOption = None, by: ByOption = None, at: AtOption = None) -> None:
    """Le dossier d'audit d'un incident, avec la preuve d'intégrité de sa chronologie."""
    from models.db import read_scope
    from models.queries import readable_incident
    from reports.audit import audit_data
    from reports.render import audit_pdf, render_audit

    if fmt is AuditFormat.PDF:
        refuse_pdf_on_a_terminal(output)
    with user_errors(), read_scope() as session:
        reader = person(by)
        data = audit_data(session, readable_incident(session, ref, reader), instant(at, writes=False), reader=reader)
    if fmt is AuditFormat.PDF:
        emit_pdf(lambda: audit_pdf(data), output)
    else:
        emit(render_audit(data, fmt.value), output)
    proof = data["proof"] or {}
    # Written to a file, the warning would otherwise be read only by whoever opens it.
    if output is not None and (not proof.get("chain_ok", True) or proof.get("records_problems")):
        typer.echo("Attention : la preuve d'intégrité de ce dossier signale un problème (chaîne rompue, ou "
                   "enregistrements qui ne correspondent plus à la chronologie) ; voir sa section « Preuve "
                   "d'intégrité ».", err=True)
    elif output is not None and proof.get("later_problems"):
        typer.echo("Attention : les enregistrements de cet incident correspondent à la chronologie, mais elle est "
                   "altérée après sa dernière entrée ; voir la section « Preuve d'intégrité » du dossier, et "
                   "« incidents verify ».", err=True)


@report_app.command("steering")
def steering(start: Annotated[str, typer.Option("--from", help="Premier jour (AAAA-MM-JJ).")],
             end: Annotated[str, typer.Option("--to", help="Dernier jour inclus (AAAA-MM-JJ).")],
             fmt: Annotated[SteeringFormat, typer.Option("--format", help=f"{formats_help(SteeringFormat)}.")]
             = SteeringFormat.HTML,
             output: OutputOption = None, by: ByOption = None) -> None:
    """Rapport au comité de pilotage sur une période (personnes de l'académie)."""
    from models.db import read_scope
    from models.queries import require_whole_store
    from reports.render import render_steering, steering_pdf
    from reports.steering import steering_data
    from settings.parties import load_parties

    if fmt is SteeringFormat.PDF:
        refuse_pdf_on_a_terminal(output)
    with user_errors():
        require_whole_store(person(by), "le rapport au comité de pilotage")
        first, last = _day(start, "--from"), _day(end, "--to")
        if last < first:
            fail("Refusé : champ « --to » : le dernier jour précède le premier.", 2)
        now = instant(None, writes=False)
        if first > now.in_timezone("Europe/Paris").date():
            fail("Refusé : champ « --from » : la période n'a pas encore commencé.", 2)
        with read_scope() as session:
            data = steering_data(session, first, last, load_parties(), now)
    if fmt is SteeringFormat.PDF:
        emit_pdf(lambda: steering_pdf(data), output)
    else:
        emit(render_steering(data, fmt.value), output)


@app.command()
def export(fmt: Annotated[str, typer.Option("--format", help="jsonl (JSON, une entrée par ligne ; seul format "
                                                                "proposé).")] = "jsonl", output: OutputOption = None,
           by: ByOption = None, at: AtOption = None) -> None:
    """Exporter tout le registre (JSON, un objet par ligne) avec la tête de chaîne, pour l'archivage (personnes de
    l'académie)."""
    from models.db import read_scope
    from models.queries import require_whole_store
    from reports.export import export_lines

    with user_errors():
        require_whole_store(person(by), "l'export complet du registre")
        if fmt != "jsonl":
            fail("Refusé : champ « --format » : seul « jsonl » est proposé.", 2)
        with read_scope() as session:
            text = "".join(export_lines(session, instant(at, writes=False)))
    emit(text, output)


@app.command()
def verify(export_file: Annotated[Path | None, typer.Option("--export", help="Vérifier un export hors ligne, "
                                                                            "sans le registre.")] = None,
           checkpoint_file: Annotated[Path | None, typer.Option(
               "--checkpoint", help="Vérifier aussi que la chronologie (ou l'export) prolonge ce point de contrôle "
                                    "signé, conservé plus tôt (courriel, rapport, « incidents checkpoints »).")] = None,
           public_key: Annotated[str | None, typer.Option(
               "--public-key", help="La clé publique du journal, pour vérifier un export hors ligne contre un "
                                    "point de contrôle (« incidents checkpoint --public-key »).")] = None,
           timestamp_file: Annotated[Path | None, typer.Option(
               "--timestamp", help="Vérifier aussi le jeton d'horodatage RFC 3161 de ce point de contrôle (DER, "
                                   "ou le base64 de « incidents checkpoints »).")] = None,
           tsa_ca: Annotated[Path | None, typer.Option(
               "--tsa-ca", help="Le certificat de l'autorité d'horodatage (PEM), sinon INCIDENTS_TSA_CA_FILE.")
                             ] = None,
           by: ByOption = None) -> None:
    """Vérifier l'intégrité de la chaîne de la chronologie (du registre, ou d'un export)."""
    if timestamp_file is not None:
        from cli.proof_commands import timestamp_check

        if checkpoint_file is None:
            fail("Refusé : option « --timestamp » : donnez aussi le point de contrôle qu'il date (--checkpoint).", 2)
        # Offline, before anything else: the token needs only the note and the authority's certificate.
        typer.echo(timestamp_check(checkpoint_file, timestamp_file, tsa_ca))
    from rendering.formats import counted, grouped

    if export_file is not None:
        from reports.export import verify_export

        if not export_file.is_file():
            fail(f"Refusé : champ « --export » : pas un fichier ordinaire ({export_file}).", 2)
        from cli.proof_commands import held_checkpoint

        held = held_checkpoint(checkpoint_file, public_key) if checkpoint_file is not None else None
        try:
            with export_file.open(encoding="utf-8") as lines:
                check = verify_export(lines, held)
        except (OSError, UnicodeDecodeError, RecursionError, MemoryError) as error:
            fail(f"Refusé : champ « --export » : fichier illisible ({cause(error)}).", 2)
        if check.records:
            fail("Export intègre ligne à ligne, mais ses enregistrements ne correspondent plus à sa chronologie :\n"
                 + "\n".join(f"  - {problem}" for problem in check.records))
        if not check.ok:
            fail(f"Export invalide à la ligne {check.bad_line} : {check.problem}.")
        held_text = f" ; ses {grouped(held.size)} premières entrées sont celles du point de contrôle conservé." \
            if held is not None else ". (Cohérence de l'export avec lui-même : contre qui l'a produit, vérifiez avec " \
            "--checkpoint.)"
        if held is not None and public_key is None:
            held_text += (" (Signature vérifiée avec la clé publique de ce serveur : pour ne pas dépendre de lui, "
                          "donnez la vôtre avec --public-key.)")
        typer.echo(f"Export intègre : {counted(check.lines, 'ligne')}, {counted(check.entries, 'entrée')}, "
                   f"empreinte de tête {check.head_hash}{held_text}")
        return
    from models.verification import readable_refs, verify_store

    with user_errors():
        reader = person(by)  # any declared person may check the proof; of the incidents, it names only theirs
        store = verify_store()
        readable = readable_refs(reader)
    report = store.chain
    if not report.ok:
        where = f" (incident {report.first_bad_ref})" \
            if report.first_bad_ref and (readable is None or report.first_bad_ref in readable) else ""
        if report.first_bad_seq is None:  # no entry to name: a value no entry or record could hold
            broken = f"Registre altéré : {report.problem}. Ni la chaîne ni les enregistrements n'ont pu être contrôlés."
        else:
            broken = f"Chaîne rompue à l'entrée n° {report.first_bad_seq}{where} : {report.problem}. Les " \
                "enregistrements ne sont pas comparés à la chronologie tant qu'elle est rompue."
        if checkpoint_file is not None:  # what the kept checkpoint says of it, too: the auditor's own evidence
            from cli.proof_commands import held_checkpoint_problem

            contradiction = held_checkpoint_problem(checkpoint_file, public_key)
            if contradiction is not None:
                broken += f"\nPoint de contrôle contredit : {contradiction}."
        fail(broken)
    problems = store.problems(readable)
    hidden = store.hidden(readable) if readable is not None else 0
    if hidden:
        them = "le" if hidden == 1 else "les"
        problems.append(f"{counted(hidden, 'problème touche un incident', 'problèmes touchent des incidents')} que "
                        f"vous ne pouvez pas consulter ; les personnes de l'académie peuvent {them} consulter avec la "
                        "même commande")
    if checkpoint_file is not None:
        from cli.proof_commands import held_checkpoint_problem

        contradiction = held_checkpoint_problem(checkpoint_file, public_key)
        if contradiction is not None:
            fail(f"Point de contrôle contredit : {contradiction}.")
    if problems:
        fail("Chaîne intègre, mais les enregistrements ne correspondent plus à la chronologie :\n"
             + "\n".join(f"  - {problem}" for problem in problems))
    typer.echo(f"Chaîne intègre : {counted(report.entries, 'entrée')}, empreinte de tête {report.head_hash} ; les "
               "enregistrements correspondent à ce qu'elle atteste."
               + ("" if checkpoint_file is not None else " (Cohérence du registre avec lui-même : contre qui "
                                                          "l'exploite, vérifiez avec --checkpoint.)"))


def _day(value: str, field: str) -> date:
    from models.errors import FieldError, InvalidInput

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput([FieldError(field, "doit être une date AAAA-MM-JJ")]) from None
