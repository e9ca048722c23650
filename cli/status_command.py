"""`incidents status`: what an operator checks first — is the service up, when did the engine last pass and how did
it end, what is queued, what mail is not getting through, which clocks have run out.

The store is imported inside the command: see cli/app.py on start-up."""

import os
from typing import Any

import pendulum
import typer

from cli.app import AtOption, ByOption, JsonOption, app, emit_json, instant, person, user_errors
from cli.orchestration import service_state
from rendering.formats import counted, duration_fr, paris_datetime
from settings.env import fallback_smtp_settings

# The served watchdog passes every 5 minutes: a last pass older than two intervals means nobody is passing.
STALE_PASS_SECONDS = 600
STALE_QUEUE_SECONDS = 300
NEEDS_ATTENTION = 3  # the exit status when something needs someone, for a monitoring probe
WATCHDOG = ("engine-pass", "watchdog")  # the engine's pass, deployed by prefect.yaml or served by `incidents serve`


def service_view() -> dict[str, Any]:
    from cli import prefect_api

    external = os.environ.get("PREFECT_API_URL")
    if external:
        running = prefect_api.answers(external, os.environ.get("PREFECT_API_AUTH_STRING"))
        engine = None
        if running:  # a Prefect server of its own, workers in a pool (README, « Plusieurs machines »)
            try:
                engine = prefect_api.engine_runners(*WATCHDOG)
            except (OSError, ValueError):
                engine = None  # it answered its health check, then not this: said as unknown
        return {"running": running, "pid": None, "api_url": external, "external": True, "engine": engine}
    state = service_state()
    if state is None:
        return {"running": False, "pid": None, "api_url": None, "external": False, "engine": None}
    return {"running": prefect_api.answers(str(state["api_url"]), state.get("auth")), "pid": state["pid"],
            "api_url": state["api_url"], "external": False, "engine": None}


def attention(view: dict[str, Any]) -> list[str]:
    """What needs someone now, in French."""
    notes = []
    service = view["service"]
    if service["external"]:
        notes += _external_notes(service)
    elif not service["running"]:
        notes.append("le service ne tourne pas : aucune passe automatique (lancez « incidents serve »)")
    last = view["last_pass"]
    if last is None:
        notes.append("aucune passe du moteur n'a encore eu lieu")
    elif last["outcome"] != "ok":
        notes.append(f"la dernière passe s'est interrompue ({last['error']})")
    elif last["seconds_ago"] > STALE_PASS_SECONDS:
        notes.append(f"aucune passe depuis {duration_fr(last['seconds_ago'])}")
    if view["queued_incidents"] and (view["oldest_queued_seconds"] or 0) > STALE_QUEUE_SECONDS:
        notes.append(f"{counted(view['queued_incidents'], 'incident')} en file depuis "
                     f"{duration_fr(view['oldest_queued_seconds'])} : leur alerte n'est pas partie")
    if view["failing_messages"]:
        notes.append(f"{counted(view['failing_messages'], 'message')} en échec de remise (le relais répond-il ?)")
    if view["refused_messages"]:
        notes.append(counted(view["refused_messages"], "message refusé", "messages refusés")
                     + " définitivement par le relais")
    if view["overdue_obligations"]:
        notes.append(counted(view["overdue_obligations"], "obligation à l'échéance dépassée",
                             "obligations à l'échéance dépassée"))
    if view.get("proof_problem"):
        notes.append(f"le moteur ne signe plus de point de contrôle : {view['proof_problem']} (comparez avec "
                     "« incidents verify --checkpoint » les points de contrôle que les parties ont gardés)")
    if view.get("timestamp_problem"):
        notes.append(f"le dernier point de contrôle est signé mais non horodaté : {view['timestamp_problem']} "
                     "(l'autorité d'horodatage répond-elle ?)")
    return notes


def _external_notes(service: dict[str, Any]) -> list[str]:
    """What a Prefect server of its own (PREFECT_API_URL) lacks for the engine to pass."""
    engine = service["engine"]
    if not service["running"]:
        return [f"le serveur Prefect ({service['api_url']}) ne répond pas : aucune passe automatique"]
    if engine is None:
        return ["le serveur Prefect répond, mais sa réponse sur le moteur et ses workers est illisible : état des "
                "workers inconnu"]
    if not engine["deployed"]:
        return ["le moteur n'est pas déployé sur ce serveur Prefect : aucune passe automatique (« prefect deploy "
                "--all », voir le README)"]
    if engine["pool"] is None:
        return [] if engine["served"] else \
            ["aucun processus ne sert le moteur sur ce serveur Prefect : aucune passe automatique (lancez "
             "« incidents serve »)"]
    if engine["workers_online"] == 0:
        return [f"aucun worker en ligne dans le pool « {engine['pool']} » : ni passe du moteur ni remise (« prefect "
                f"worker start --pool {engine['pool']} »)"]
    return []


@app.command()
def status(as_json: JsonOption = False, by: ByOption = None, at: AtOption = None) -> None:
    """L'état du moteur : service, dernière passe, incidents en file, messages non remis, obligations en retard ;
    code de sortie 3 quand quelque chose est à surveiller."""
    from models.db import read_scope
    from models.health import store_health
    from models.queries import require_whole_store

    with user_errors():
        now, reader = instant(at, writes=False), person(by)
        require_whole_store(reader, "l'état du moteur")
        with read_scope() as session:
            view: dict[str, Any] = {"at": now.isoformat(), **store_health(session, now, pendulum.now("UTC"))}
    view["service"] = service_view()
    last = view["last_pass"]  # the engine's own settings, as its last pass had them; else this shell's
    view["fallback_relay"] = last["fallback_relay"] if last and "fallback_relay" in last \
        else fallback_smtp_settings() is not None
    view["attention"] = attention(view)
    if as_json:
        emit_json(view)
    else:
        _print(view, now)
    if view["attention"]:
        raise typer.Exit(NEEDS_ATTENTION)


def _print(view: dict[str, Any], now: pendulum.DateTime) -> None:
    from models.engine_pass import PASS_OUTCOME_LABELS

    service, last = view["service"], view["last_pass"]
    typer.echo(f"État du moteur le {paris_datetime(now)}")
    if service["external"]:
        typer.echo(f"Serveur Prefect : {'en marche' if service['running'] else 'injoignable'} ({service['api_url']})")
        engine = service["engine"]
        if engine and engine["pool"]:
            typer.echo(f"Workers du pool « {engine['pool']} » : {engine['workers_online']} en ligne sur "
                       f"{engine['workers']}")
        elif engine and engine["deployed"]:
            typer.echo(f"Moteur servi par un processus en marche : {'oui' if engine['served'] else 'non'}")
    elif service["running"]:
        where = f"processus {service['pid']}, " if service["pid"] else ""
        typer.echo(f"Service : en marche ({where}{service['api_url']})")
    else:
        typer.echo("Service : arrêté")
    if last is None:
        typer.echo("Dernière passe du moteur : aucune")
    else:
        typer.echo(f"Dernière passe du moteur : il y a {duration_fr(last['seconds_ago'])}, "
                   f"{PASS_OUTCOME_LABELS[last['outcome']]} "
                   f"({counted(last['taken_in'], 'incident pris', 'incidents pris')} en charge, "
                   f"{counted(last['delivered'], 'message remis', 'messages remis')}, "
                   f"{counted(last['failed'], 'échec')}, "
                   f"{counted(last['refused'], 'refus définitif', 'refus définitifs')})")
    typer.echo(f"Incidents en file : {view['queued_incidents']}")
    oldest = view["oldest_undelivered_seconds"]
    waiting = f" (le plus ancien attend depuis {duration_fr(oldest)})" if view["undelivered_messages"] else ""
    typer.echo(f"Messages non remis : {view['undelivered_messages']}{waiting}, dont {view['failing_messages']} en "
               "échec")
    if view["last_delivery_error"]:
        typer.echo(f"  Dernière erreur de remise : {view['last_delivery_error']}")
    typer.echo(f"Messages refusés définitivement : {view['refused_messages']}")
    typer.echo(f"Relais de secours pour les avis d'échec : {'configuré' if view['fallback_relay'] else 'aucun'}")
    typer.echo(f"Obligations à l'échéance dépassée : {view['overdue_obligations']}")
    if view["attention"]:
        typer.echo("À surveiller :")
        for note in view["attention"]:
            typer.echo(f"  - {note}")
    else:
        typer.echo("Rien à signaler.")
