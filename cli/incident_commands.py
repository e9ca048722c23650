"""Commands on incidents: declare, list, show, triage, acknowledge, follow-up, close, dismiss."""

from pathlib import Path
from typing import Annotated

import typer

from cli.app import AtOption, ByOption, JsonOption, act, app, emit_json, instant, person, user_errors
from cli.files import read_document
from cli.orchestration import Handover, hand_over
from cli.views import (
    INCIDENT_STATUS_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    incident_view,
    scope_text,
)
from models.commands import Acknowledge, Close, Declare, Dismiss, FollowUp, Triage
from models.db import session_scope
from models.declaration import parse_declaration
from models.outbox import MESSAGE_STATUS_LABELS
from models.queries import likely_duplicates_of, readable_incident, readable_incidents
from models.reports_input import parse_closure, parse_follow_up
from policy.duplicates import duplicate_warning
from policy.parties import Party
from policy.scope import Scope
from rendering.formats import duration_fr
from settings.env import check_settings
from settings.parties import load_parties

HANDOVER_MESSAGES = {
    Handover.TRIGGERED: "Remise confiée au service Prefect en cours d'exécution.",
    Handover.QUEUED: "L'orchestration n'a pas pu prendre la main maintenant : le travail reste en file et sera fait "
                     "par la prochaine passe du moteur (« incidents watch ») ; « incidents status » le montre.",
}


@app.command()
def declare(file: Annotated[Path, typer.Argument(help="Déclaration YAML ou JSON.")], as_json: JsonOption = False,
            by: ByOption = None, at: AtOption = None) -> None:
    """Enregistrer un incident, puis lancer l'alerte de l'autre partie."""
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
    with session_scope() as session:
        stored = readable_incident(session, incident.ref, reader)
        view = incident_view(session, stored, now)
        view["possible_duplicates"] = likely_duplicates_of(session, stored, reader)
    view["orchestration"] = handover.value
    if as_json:
        emit_json(view)
        return
    if view["possible_duplicates"]:
        typer.echo(duplicate_warning(view["possible_duplicates"]))
    if handover is Handover.DONE:
        typer.echo(f"Portée proposée : {scope_text(view['scope'])}.")
        for obligation in view["obligations"]:
            typer.echo(f"{KIND_LABELS.get(obligation['kind'], obligation['kind'])} : "
                       f"{STATUS_LABELS[obligation['status']]} (échéance {obligation['due_at']}).")
    else:
        typer.echo(HANDOVER_MESSAGES[handover])


@app.command("list")
def list_incidents(as_json: JsonOption = False, by: ByOption = None, at: AtOption = None) -> None:
    """Lister les incidents que vous pouvez consulter (une commune : les siens)."""
    with user_errors():
        now, reader = instant(at, writes=False), person(by)
        with session_scope() as session:
            views = [incident_view(session, incident, now) for incident in readable_incidents(session, reader)]
    if as_json:
        emit_json(views)
        return
    if not views:
        typer.echo("Aucun incident enregistré.")
    for view in views:
        statuses = ", ".join(STATUS_LABELS[o["status"]] for o in view["obligations"])
        typer.echo(f"{view['ref']}  {INCIDENT_STATUS_LABELS[view['status']]:<18} {view['municipality']}  "
                   f"{scope_text(view['scope']):<60}  {statuses}  {view['title']}")


@app.command()
def show(ref: str, as_json: JsonOption = False, by: ByOption = None, at: AtOption = None) -> None:
    """Afficher un incident, ses obligations et ses messages."""
    with user_errors():
        now, reader = instant(at, writes=False), person(by)
        with session_scope() as session:
            view = incident_view(session, readable_incident(session, ref, reader), now, with_messages=True)
    if as_json:
        emit_json(view)
        return
    status = "arrêtée" if view["scope_status"] == "confirmed" else "proposée"
    typer.echo(f"{view['ref']} — {view['title']} ({INCIDENT_STATUS_LABELS[view['status']]})")
    typer.echo(f"Commune : {view['municipality']} ; déclaré par : {Party(view['declared_by']).label} ; "
               f"connu depuis : {view['aware_at']}")
    typer.echo(f"Portée ({status}) : {scope_text(view['scope'])}"
               + (f" — motif : {view['scope_reason']}" if view["scope_reason"] else ""))
    acknowledgement = view["acknowledgement"]
    typer.echo(f"Accusé de réception de l'alerte : {acknowledgement['at']} par {acknowledgement['by']}"
               if acknowledgement["at"] else "Accusé de réception de l'alerte : pas encore reçu")
    for o in view["obligations"]:
        late = f", retard {duration_fr(o['late_by_seconds'])}" if o["late_by_seconds"] else ""
        met = f", remplie {o['met_at']}" if o["met_at"] else ""
        typer.echo(f"  {KIND_LABELS.get(o['kind'], o['kind'])} ({Party(o['owner']).label}) : "
                   f"{STATUS_LABELS[o['status']]}, échéance {o['due_at']}{met}{late}")
    for m in view["messages"]:
        error = f" — dernière erreur : {m['last_error']}" if m["last_error"] and m["status"] != "sent" else ""
        typer.echo(f"  ✉ {m['template']}/{m['step']} → {m['recipient']} : {MESSAGE_STATUS_LABELS[m['status']]} "
                   f"({m['attempts']} tentative(s)){error}")


@app.command()
def triage(ref: str, scope: Annotated[Scope, typer.Option("--scope", help="Portée retenue.")],
           reason: Annotated[str | None, typer.Option("--reason", help="Motif (obligatoire si la portée "
                                                                        "proposée est écartée).")] = None,
           by: ByOption = None, at: AtOption = None) -> None:
    """Confirmer ou corriger la portée proposée (agent de sécurité de l'académie)."""
    with user_errors():
        act(Triage(ref=ref, scope=scope, reason=reason), by, at)
    typer.echo(f"Portée de {ref} arrêtée : {scope_text(scope)}.")


@app.command()
def acknowledge(ref: str, by: ByOption = None, at: AtOption = None) -> None:
    """Accuser réception de l'alerte reçue de l'autre partie (une personne de la partie alertée)."""
    with user_errors():
        act(Acknowledge(ref=ref), by, at)
    typer.echo(f"Accusé de réception de l'alerte de {ref} enregistré.")


def _record_and_dispatch(command: FollowUp | Close, by: str | None, at: str | None, recorded: str, sent: str) -> None:
    """Record a report through the door, then hand its mails to orchestration."""
    with user_errors():
        act(command, by, at)
        typer.echo(recorded)
        with session_scope() as session:
            incident = readable_incident(session, str(command.ref), person(by))
        assert incident.id is not None
        handover = hand_over("dispatch", incident.id, incident.ref, at)
    typer.echo(HANDOVER_MESSAGES.get(handover, sent))


@app.command("follow-up")
def follow_up(ref: str, file: Annotated[Path, typer.Option("--file", help="Point de suivi YAML : done, planned, "
                                                                            "impact.")],
              by: ByOption = None, at: AtOption = None) -> None:
    """Enregistrer et envoyer un point de suivi à l'autre partie (Art. 4.2)."""
    with user_errors():
        content = parse_follow_up(read_document(file))
    _record_and_dispatch(FollowUp(ref=ref, content=content), by, at, f"Point de suivi de {ref} enregistré.",
                         "Point de suivi envoyé.")


@app.command()
def close(ref: str, file: Annotated[Path, typer.Option("--file", help="Rapport de clôture YAML : summary, "
                                                                       "measures, root_cause, residual_risk.")],
          by: ByOption = None, at: AtOption = None) -> None:
    """Clore un incident et envoyer le rapport final aux deux parties."""
    with user_errors():
        content = parse_closure(read_document(file))
    _record_and_dispatch(Close(ref=ref, content=content), by, at, f"Incident {ref} clos.",
                         "Rapport final envoyé aux deux parties.")


@app.command()
def dismiss(ref: str, reason: Annotated[str, typer.Option("--reason", help="Pourquoi (hors ENT, doublon…).")],
            by: ByOption = None, at: AtOption = None) -> None:
    """Classer sans suite une déclaration (hors ENT, doublon) ; elle reste dans la chronologie et les statistiques."""
    with user_errors():
        act(Dismiss(ref=ref, reason=reason), by, at)
    typer.echo(f"Incident {ref} classé sans suite.")
