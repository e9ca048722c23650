"""Commands on incidents: declare, list, show, triage, acknowledge, follow-up, close, dismiss.

The store, the parsers and the views are imported inside each command: see cli/app.py on start-up."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.app import (
    AtOption,
    ByOption,
    JsonOption,
    RefArgument,
    act,
    app,
    emit_json,
    instant,
    person,
    user_errors,
)
from cli.french import choices_help
from cli.orchestration import Handover, hand_over
from cli.views import scope_text
from models.collection import cycle_collection_paused
from policy.duplicates import duplicate_warning
from policy.scope import SCOPE_LABELS, Scope
from policy.transitions import INCIDENT_STATE_LABELS, IncidentState
from settings.env import check_settings

if TYPE_CHECKING:
    from models.commands import Close, FollowUp

HANDOVER_MESSAGES = {
    Handover.TRIGGERED: "Remise confiée au service Prefect en cours d'exécution.",
    Handover.QUEUED: "L'orchestration n'a pas pu prendre la main maintenant : le travail reste en file et sera fait "
                     "par la prochaine passe du moteur (« incidents watch ») ; « incidents status » le montre.",
}


@app.command()
def declare(file: Annotated[Path, typer.Argument(help="Déclaration YAML ou JSON.")], as_json: JsonOption = False,
            by: ByOption = None, at: AtOption = None) -> None:
    """Enregistrer un incident, puis lancer l'alerte de l'autre partie."""
    with cycle_collection_paused():
        _declare(file, as_json, by, at)


def _declare(file: Path, as_json: bool, by: str | None, at: str | None) -> None:
    from cli.files import read_document
    from cli.text import obligation_text
    from cli.views import incident_view
    from models.commands import Declare
    from models.declaration import parse_declaration
    from models.driver import plain_read
    from models.plain_reads import likely_duplicates_among, obligations_of, readable_incident_row
    from settings.parties import load_parties

    with user_errors():
        now = instant(at)
        reader = person(by)
        check_settings()
        declaration = parse_declaration(read_document(file), load_parties(), now)
        incident = act(Declare(declaration), by, at)
        assert incident.id is not None
        if not as_json:
            typer.echo(f"Incident enregistré : {incident.ref}")
        handover = hand_over("intake", incident.id, incident.ref, at)
    with plain_read() as store:
        stored = readable_incident_row(store, incident.ref, reader)
        view = incident_view(stored, obligations_of(store, stored.id), now)
        view["possible_duplicates"] = likely_duplicates_among(store, stored, reader)
    view["orchestration"] = handover.value
    if as_json:
        emit_json(view)
        return
    if view["possible_duplicates"]:
        typer.echo(duplicate_warning(view["possible_duplicates"]))
    if handover is Handover.DONE:
        typer.echo(f"Portée proposée : {scope_text(view['scope'])}.")
        for obligation in view["obligations"]:
            typer.echo(f"{obligation_text(obligation)}.")
    else:
        typer.echo(HANDOVER_MESSAGES[handover])


StatusFilter = Annotated[IncidentState | None, typer.Option(
    "--status", help=f"Seulement les incidents dans cet état : {choices_help(INCIDENT_STATE_LABELS)}.")]
ScopeFilter = Annotated[Scope | None, typer.Option(
    "--scope", help=f"Seulement les incidents de cette portée : {choices_help(SCOPE_LABELS)}.")]
CommuneFilter = Annotated[str | None, typer.Option(
    "--commune", help="Seulement les incidents de cette commune : son code INSEE ou son nom.")]
OverdueFilter = Annotated[bool, typer.Option(
    "--overdue", help="Seulement les incidents dont une obligation a dépassé son échéance.")]


@app.command("list")
def list_incidents(status: StatusFilter = None, scope: ScopeFilter = None, commune: CommuneFilter = None,
                   overdue: OverdueFilter = False, as_json: JsonOption = False, by: ByOption = None,
                   at: AtOption = None) -> None:
    """Lister les incidents que vous pouvez consulter (une commune : les siens), avec ou sans filtre."""
    from cli.text import commune_code, list_lines
    from cli.views import readable_views
    from models.driver import plain_read
    from settings.parties import load_parties

    with user_errors():
        now, reader, parties = instant(at, writes=False), person(by), load_parties()
        insee = commune_code(commune, parties) if commune is not None else None
        with plain_read() as store:
            views = [view for view in readable_views(store, reader, now)
                     if (status is None or view["status"] == status) and (scope is None or view["scope"] == scope)
                     and (insee is None or view["municipality"] == insee)]
    if overdue:
        views = [view for view in views if any(o["status"] == "overdue" for o in view["obligations"])]
    if as_json:
        emit_json(views)
        return
    filtered = status is not None or scope is not None or commune is not None or overdue
    if not views:
        typer.echo("Aucun incident ne correspond à ces critères." if filtered else "Aucun incident enregistré.")
        return
    for line in list_lines(views, parties):
        typer.echo(line)


@app.command()
def show(ref: RefArgument, as_json: JsonOption = False, by: ByOption = None, at: AtOption = None) -> None:
    """Afficher un incident en entier : les faits déclarés, sa portée, ses obligations et ses messages."""
    from cli.text import show_lines
    from cli.views import full_view
    from models.driver import plain_read
    from models.plain_reads import breach_of, likely_duplicates_among, readable_incident_row
    from settings.parties import load_parties

    with user_errors():
        now, reader, parties = instant(at, writes=False), person(by), load_parties()
        with plain_read() as store:
            incident = readable_incident_row(store, ref, reader)
            view = full_view(store, incident, now)
            view["possible_duplicates"] = likely_duplicates_among(store, incident, reader)
            lines = show_lines(incident, view, breach_of(store, incident.id), parties)
    if view["possible_duplicates"] and incident.status != "dismissed":
        lines.append(duplicate_warning(view["possible_duplicates"]))
    if as_json:
        emit_json(view)
        return
    for line in lines:
        typer.echo(line)


@app.command()
def triage(ref: RefArgument, scope: Annotated[Scope, typer.Option("--scope", help="Portée retenue : "
                                                                            f"{choices_help(SCOPE_LABELS)}.")],
           reason: Annotated[str | None, typer.Option("--reason", help="Motif (obligatoire si la portée "
                                                                        "proposée est écartée).")] = None,
           by: ByOption = None, at: AtOption = None) -> None:
    """Confirmer ou corriger la portée proposée (agent de sécurité de l'académie)."""
    from models.commands import Triage

    with user_errors():
        act(Triage(ref=ref, scope=scope, reason=reason), by, at)
    typer.echo(f"Portée de {ref} arrêtée : {scope_text(scope)}.")


@app.command()
def acknowledge(ref: RefArgument, by: ByOption = None, at: AtOption = None) -> None:
    """Accuser réception de l'alerte reçue de l'autre partie (une personne de la partie alertée)."""
    from models.commands import Acknowledge

    with user_errors():
        act(Acknowledge(ref=ref), by, at)
    typer.echo(f"Accusé de réception de l'alerte de {ref} enregistré.")


def _record_and_dispatch(command: "FollowUp | Close", by: str | None, at: str | None, recorded: str,
                         sent: str) -> None:
    """Record a report through the door, then hand its mails to orchestration."""
    from models.db import read_scope
    from models.queries import readable_incident

    with user_errors():
        act(command, by, at)
        typer.echo(recorded)
        with read_scope() as session:
            incident = readable_incident(session, str(command.ref), person(by))
        assert incident.id is not None
        handover = hand_over("dispatch", incident.id, incident.ref, at)
    typer.echo(HANDOVER_MESSAGES.get(handover, sent))


@app.command("follow-up")
def follow_up(ref: RefArgument,
              file: Annotated[Path, typer.Option("--file", help="Point de suivi (YAML), avec les champs done (ce qui "
                                                 "a été fait), planned (ce qui est prévu) et impact (l'impact "
                                                 "actuel).")],
              by: ByOption = None, at: AtOption = None) -> None:
    """Enregistrer et envoyer un point de suivi à l'autre partie (Art. 4.2)."""
    from cli.files import read_document
    from models.commands import FollowUp
    from models.reports_input import parse_follow_up

    with user_errors():
        content = parse_follow_up(read_document(file))
    _record_and_dispatch(FollowUp(ref=ref, content=content), by, at, f"Point de suivi de {ref} enregistré.",
                         "Point de suivi envoyé.")


@app.command()
def close(ref: RefArgument,
          file: Annotated[Path, typer.Option("--file", help="Rapport de clôture (YAML), avec les champs summary "
                                             "(synthèse), measures (mesures prises), et s'il y a lieu root_cause "
                                             "(cause première) et residual_risk (risque résiduel).")],
          by: ByOption = None, at: AtOption = None) -> None:
    """Clore un incident et envoyer le rapport final aux deux parties."""
    from cli.files import read_document
    from models.commands import Close
    from models.reports_input import parse_closure

    with user_errors():
        content = parse_closure(read_document(file))
    _record_and_dispatch(Close(ref=ref, content=content), by, at, f"Incident {ref} clos.",
                         "Rapport final envoyé aux deux parties.")


@app.command()
def dismiss(ref: RefArgument, reason: Annotated[str, typer.Option("--reason", help="Pourquoi (hors ENT, doublon…).")],
            by: ByOption = None, at: AtOption = None) -> None:
    """Classer sans suite une déclaration (hors ENT, doublon) ; elle reste dans la chronologie et les statistiques."""
    from models.commands import Dismiss

    with user_errors():
        act(Dismiss(ref=ref, reason=reason), by, at)
    typer.echo(f"Incident {ref} classé sans suite.")
