"""`incidents`: declare, list, show, triage, timeline, verify, watch."""

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import pendulum
import typer
from sqlmodel import col, select

from cli.files import read_document
from cli.views import (
    ENTRY_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    incident_view,
    scope_text,
    timeline_view,
)
from models.db import session_scope
from models.declaration import parse_declaration
from models.errors import FieldError, InvalidInput, NotFound, Refused
from models.incident import Incident
from models.obligation import Obligation
from models.timeline import TimelineEntry, verify_chain
from models.transitions import declare as declare_transition
from models.transitions import get_incident
from models.transitions import triage as triage_transition
from notifications.render import duration_fr
from policy.scope import Scope
from settings.parties import PartiesConfigError, load_parties

app = typer.Typer(help="Coordination des incidents de sécurité de l'ENT entre l'académie et les collectivités.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Sortie JSON lisible par une machine.")]
AtOption = Annotated[str | None, typer.Option("--at", help="Instant de référence ISO 8601 avec décalage "
                                                           "(rejouer une passe) ; par défaut : maintenant.")]


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into a French message and a non-zero exit, never a traceback."""
    try:
        yield
    except InvalidInput as error:
        lines = "\n".join(f"  - {item}" for item in error.errors)
        fail(f"Refusé, rien n'a été enregistré :\n{lines}", 2)
    except (Refused, NotFound, PartiesConfigError) as error:
        fail(str(error))


def instant(at: str | None, field: str = "--at") -> pendulum.DateTime:
    if at is None:
        return pendulum.now("UTC")
    try:
        parsed = pendulum.parse(at, exact=True)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        parsed = None
    if not isinstance(parsed, pendulum.DateTime) or parsed.tzinfo is None or "T" not in at:
        raise InvalidInput([FieldError(field, "doit être une date ISO 8601 avec décalage horaire, "
                                              "par ex. 2026-03-28T10:00:00+01:00")])
    return parsed.in_timezone("UTC")


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command()
def declare(file: Annotated[Path, typer.Argument(help="Déclaration YAML ou JSON.")], as_json: JsonOption = False,
            at: AtOption = None) -> None:
    """Enregistrer un incident, puis lancer l'alerte de l'autre partie."""
    with user_errors():
        now = instant(at)
        parties = load_parties()
        declaration = parse_declaration(read_document(file), parties, now)
        with session_scope() as session:
            incident = declare_transition(session, declaration, parties, now)
        assert incident.id is not None
        if not as_json:
            typer.echo(f"Incident enregistré : {incident.ref}")
        handed_over = _hand_over(incident.id, incident.ref, at)
    with session_scope() as session:
        incident = get_incident(session, incident.ref)
        view = incident_view(incident, _obligations(session, incident), now)
    view["orchestration"] = "done" if handed_over else "queued"
    if as_json:
        emit_json(view)
        return
    if handed_over:
        typer.echo(f"Portée proposée : {scope_text(incident.proposed_scope)}.")
        for obligation in view["obligations"]:
            typer.echo(f"{KIND_LABELS.get(obligation['kind'], obligation['kind'])} : "
                       f"{STATUS_LABELS[obligation['status']]} (échéance {obligation['due_at']}).")
    else:
        typer.echo("L'orchestration n'a pas pu prendre l'incident en charge maintenant : il reste en file et "
                   "sera traité par la prochaine passe du moteur (« incidents watch »).")


def _hand_over(incident_id: int, ref: str, at: str | None) -> bool:
    """Run intake through Prefect; any failure leaves the incident queued for the next engine pass."""
    try:
        from flows.intake import run_intake

        asyncio.run(run_intake(incident_id, ref, at))
    except Exception as error:  # noqa: BLE001 - the declaration is durable; orchestration is retried later
        typer.echo(f"Orchestration indisponible ({type(error).__name__}).", err=True)
        return False
    return True


@app.command("list")
def list_incidents(as_json: JsonOption = False, at: AtOption = None) -> None:
    """Lister les incidents."""
    with user_errors():
        now = instant(at)
        with session_scope() as session:
            incidents = session.exec(select(Incident).order_by(col(Incident.id))).all()
            views = [incident_view(incident, _obligations(session, incident), now) for incident in incidents]
    if as_json:
        emit_json(views)
        return
    if not views:
        typer.echo("Aucun incident enregistré.")
    for view in views:
        statuses = ", ".join(STATUS_LABELS[o["status"]] for o in view["obligations"])
        typer.echo(f"{view['ref']}  {view['municipality']}  {scope_text(view['scope']):<60}  {statuses}  "
                   f"{view['title']}")


@app.command()
def show(ref: str, as_json: JsonOption = False, at: AtOption = None) -> None:
    """Afficher un incident et ses obligations."""
    with user_errors():
        now = instant(at)
        with session_scope() as session:
            incident = get_incident(session, ref)
            view = incident_view(incident, _obligations(session, incident), now)
    if as_json:
        emit_json(view)
        return
    status = "arrêtée" if view["scope_status"] == "confirmed" else "proposée"
    typer.echo(f"{view['ref']} — {view['title']}")
    typer.echo(f"Commune : {view['municipality']} ; déclaré par : {view['declared_by']} ; "
               f"connu depuis : {view['aware_at']}")
    typer.echo(f"Portée ({status}) : {scope_text(view['scope'])}"
               + (f" — motif : {view['scope_reason']}" if view["scope_reason"] else ""))
    for o in view["obligations"]:
        late = f", retard {duration_fr(o['late_by_seconds'])}" if o["late_by_seconds"] else ""
        typer.echo(f"  {KIND_LABELS.get(o['kind'], o['kind'])} ({o['owner']}) : {STATUS_LABELS[o['status']]}, "
                   f"échéance {o['due_at']}" + (f", remplie {o['met_at']}" if o["met_at"] else "") + late)


@app.command()
def triage(ref: str, scope: Annotated[Scope, typer.Option("--scope", help="Portée retenue.")],
           reason: Annotated[str | None, typer.Option("--reason", help="Motif (obligatoire si la portée "
                                                                        "proposée est écartée).")] = None,
           by: Annotated[str, typer.Option("--by", help="Qui arrête la portée (agent de l'académie).")] = "académie",
           at: AtOption = None) -> None:
    """Confirmer ou corriger la portée proposée (agent de l'académie)."""
    with user_errors():
        now = instant(at)
        with session_scope() as session:
            incident = get_incident(session, ref)
            triage_transition(session, incident, scope, reason, by, now)
    typer.echo(f"Portée de {ref} arrêtée : {scope_text(scope)}.")


@app.command()
def timeline(ref: str, as_json: JsonOption = False) -> None:
    """Afficher la chronologie d'un incident."""
    with user_errors(), session_scope() as session:
        incident = get_incident(session, ref)
        entries = session.exec(select(TimelineEntry).where(TimelineEntry.incident_id == incident.id)
                               .order_by(col(TimelineEntry.seq))).all()
        views = [timeline_view(entry) for entry in entries]
    if as_json:
        emit_json(views)
        return
    for view in views:
        typer.echo(f"{view['occurred_at']}  {ENTRY_LABELS.get(view['kind'], view['kind']):<40} "
                   f"{view['actor']} ({view['party']})  #{view['seq']} {view['hash'][:12]}")


@app.command()
def verify() -> None:
    """Vérifier l'intégrité de la chaîne de la chronologie."""
    with session_scope() as session:
        report = verify_chain(session)
    if not report.ok:
        where = f" (incident {report.first_bad_ref})" if report.first_bad_ref else ""
        fail(f"Chaîne rompue à l'entrée n° {report.first_bad_seq}{where} : {report.problem}.")
    typer.echo(f"Chaîne intègre : {report.entries} entrées, empreinte de tête {report.head_hash}.")


@app.command()
def watch(as_json: JsonOption = False, at: AtOption = None) -> None:
    """Une passe du moteur : prise en charge des incidents en file et remise des messages en attente."""
    with user_errors():
        instant(at)
    from flows.engine import engine_pass

    result = asyncio.run(engine_pass(at=at))
    if as_json:
        emit_json(result)
        return
    typer.echo(f"Passe du moteur au {result['at']} : {len(result['taken_in'])} incident(s) pris en charge, "
               f"{result['delivered']} message(s) remis, {result['failed']} échec(s) de remise.")


def _obligations(session: Any, incident: Incident) -> list[Obligation]:
    return list(session.exec(select(Obligation).where(Obligation.incident_id == incident.id)
                             .order_by(col(Obligation.id))).all())

