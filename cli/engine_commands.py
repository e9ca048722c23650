"""Commands that run the engine: one pass (`watch`), or the whole service (`serve`).

The store, the flows and the service are imported inside each command: see cli/app.py on start-up."""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.app import AtOption, ByOption, JsonOption, app, emit_json, fail, instant, person, user_errors
from cli.orchestration import quiet_prefect_console, use_served_api
from cli.views import watch_step_text
from models.errors import cause
from rendering.formats import counted, paris_datetime
from settings.env import check_settings

if TYPE_CHECKING:
    import pendulum

    from settings.parties import Person

DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Dire ce que la passe ferait, sans rien écrire ni "
                                                              "envoyer.")]


@app.command()
def watch(as_json: JsonOption = False, dry_run: DryRunOption = False, by: ByOption = None,
          at: AtOption = None) -> None:
    """Une passe du moteur : incidents en file, messages en attente, rappels, escalades et échéances dépassées."""
    from models.db import get_engine
    from models.queries import require_whole_store
    from settings.parties import load_parties

    with user_errors():
        now = instant(at, writes=not dry_run)
        load_parties()  # a bad parties' file is refused here, not inside a flow run
        check_settings()
        get_engine()
        if dry_run:  # a read across every commune: the académie's
            require_whole_store(person(by), "l'aperçu d'une passe du moteur")
            from flows.steps import preview_pass

            preview = preview_pass(now)
    if dry_run:
        _print_preview(preview, as_json)
        return
    with user_errors():
        reader = person(by) if by is not None or os.environ.get("INCIDENTS_ACTOR") else None
    result = _shown_to(reader, _run_pass(now, at))
    if as_json:
        emit_json(result)
        return
    counts = [counted(len(result["taken_in"]), "incident pris en charge", "incidents pris en charge"),
              counted(len(result["steps"]), "étape d'échéance", "étapes d'échéance"),
              counted(result["delivered"], "message remis", "messages remis"),
              counted(result["failed"], "échec de remise", "échecs de remise"),
              counted(result["refused"], "message refusé définitivement", "messages refusés définitivement")]
    typer.echo(f"Passe du moteur du {paris_datetime(result['at'])} : {', '.join(counts)}.")
    for step in result["steps"]:
        typer.echo(f"  {watch_step_text(step)}")


def _shown_to(reader: "Person | None", result: dict[str, Any]) -> dict[str, Any]:
    """What a pass did, as `reader` may see it: the references taken in and the steps of the incidents they may read
    (a commune's people, their commune's; nobody named, none); the counts of messages are the pass's own."""
    from models.db import read_scope
    from models.queries import readable_refs

    refs = set(result["taken_in"]) | {step["ref"] for step in result["steps"]}
    with read_scope() as session:
        shown = readable_refs(session, reader, refs) if reader is not None and refs else set()
    return {**result, "taken_in": [ref for ref in result["taken_in"] if ref in shown],
            "steps": [step for step in result["steps"] if step["ref"] in shown]}


def _run_pass(now: "pendulum.DateTime", at: str | None) -> dict[str, Any]:
    """Through the service's Prefect server when one answers; otherwise the same pass without orchestration."""
    import asyncio
    from dataclasses import asdict

    from sqlalchemy.exc import SQLAlchemyError

    from flows.steps import engine_pass_bare
    from models.db import StoreUnavailable
    from models.errors import InvalidInput, NotFound, Refused
    from settings.env import SettingsError

    user_refusals = (InvalidInput, Refused, NotFound, StoreUnavailable, SQLAlchemyError, SettingsError)

    if use_served_api():
        quiet_prefect_console()
        import flows  # noqa: F401  (Prefect's environment defaults, before Prefect itself)
        from flows.engine import engine_pass

        try:
            return asyncio.run(engine_pass(at=at))
        except user_refusals:  # the pass's own refusals are the user's to read, not a reason to run it again
            with user_errors():
                raise
        except Exception as error:  # noqa: BLE001 - the store holds the work: the same pass runs without Prefect
            typer.echo(f"Prefect n'a pas pu faire la passe ({cause(error)}) : passe faite directement, sans "
                       "orchestration.", err=True)
    else:
        typer.echo("Aucun service en marche : passe faite directement, sans orchestration.", err=True)
    with user_errors():
        return asdict(asyncio.run(engine_pass_bare(now)))


def _print_preview(preview: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(preview)
        return
    counts = [counted(len(preview["would_take_in"]), "incident à prendre en charge", "incidents à prendre en charge"),
              counted(len(preview["would_take_steps"]), "étape d'échéance", "étapes d'échéance"),
              counted(len(preview["would_remind_acknowledgement"]), "relance d'accusé de réception",
                      "relances d'accusé de réception"),
              counted(preview["would_deliver"], "message à remettre", "messages à remettre")]
    typer.echo(f"Aperçu de la passe du {paris_datetime(preview['at'])} — rien n'est écrit ni envoyé : "
               f"{', '.join(counts)}.")
    for step in preview["would_take_steps"]:
        typer.echo(f"  {watch_step_text(step)}")


@app.command()
def simulate(target: Annotated[Path, typer.Argument(metavar="FICHIER", help="Fichier SQLite de la copie de "
                                                                            "simulation à créer.")],
             by: ByOption = None) -> None:
    """Copier le registre en un registre de simulation, où « --at » peut être dans le futur (exercices) ; une
    simulation n'écrit ses courriels qu'en fichiers, ou à un serveur SMTP local."""
    from models.db import copy_as_simulation

    with user_errors():
        actor = person(by)
        if "admin" not in actor.roles or actor.party != "academy":
            fail("Refusé : créer une simulation (une copie de tout le registre) est réservé aux administrateurs de "
                 "l'académie.")
        if target.exists():
            fail(f"Refusé : champ « FICHIER » : le fichier {target} existe déjà.", 2)
        copy_as_simulation(target)
    typer.echo(f"Registre de simulation créé : {target}\nPour l'utiliser : "
               f"INCIDENTS_DATABASE_URL=sqlite:///{target.resolve()} uv run incidents watch --at …")


@app.command()
def serve(port: Annotated[int, typer.Option("--port", help="Port du serveur Prefect local.")] = 4200,
          portal_port: Annotated[int | None, typer.Option("--portal-port", help="Port du portail (par défaut "
                                                          "INCIDENTS_PORTAL_PORT, sinon 8080).")] = None) -> None:
    """Démarrer le service : serveur Prefect local (sauf PREFECT_API_URL), déploiements et portail web."""
    from cli.service import run_service
    from models.db import get_engine
    from settings.env import oidc_settings, portal_url, trusted_proxies
    from settings.env import portal_port as configured_port
    from settings.parties import load_parties

    with user_errors():
        load_parties()
        check_settings()
        chosen = portal_port or configured_port()
        portal_url(chosen)
        oidc_settings()
        trusted_proxies()
        get_engine()
    run_service(port, chosen)


@app.command()
def portal(port: Annotated[int | None, typer.Option("--port", help="Port du portail (par défaut "
                                                    "INCIDENTS_PORTAL_PORT, sinon 8080).")] = None) -> None:
    """Servir le portail seul (sans Prefect : une déclaration est alors traitée par le portail lui-même)."""
    import uvicorn

    from models.db import get_engine
    from portal.server import address, config
    from settings.env import oidc_settings, portal_port, portal_url, trusted_proxies
    from settings.parties import load_parties

    with user_errors():
        load_parties()
        check_settings()
        chosen = port or portal_port()
        portal_url(chosen)
        oidc_settings()
        trusted_proxies()
        get_engine()
    typer.echo(f"Portail : {address(chosen)} (Ctrl-C pour arrêter).")
    uvicorn.Server(config(chosen)).run()
