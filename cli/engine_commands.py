"""Commands that run the engine: one pass (`watch`), or the whole service (`serve`)."""

import asyncio
from typing import Annotated

import pendulum
import typer

from cli.app import AtOption, JsonOption, app, emit_json, instant, user_errors
from cli.orchestration import use_served_api
from cli.views import iso_paris
from models.db import get_engine
from settings.parties import load_parties


@app.command()
def watch(as_json: JsonOption = False, at: AtOption = None) -> None:
    """Une passe du moteur : incidents en file, messages en attente, rappels, escalades et échéances dépassées."""
    with user_errors():
        instant(at)
        load_parties()  # a bad parties' file is refused here, not inside a flow run
        get_engine()
    use_served_api()
    import flows  # noqa: F401  (Prefect's environment defaults, before Prefect itself)
    from flows.engine import engine_pass

    result = asyncio.run(engine_pass(at=at))
    if as_json:
        emit_json(result)
        return
    typer.echo(f"Passe du moteur au {iso_paris(pendulum.parse(result['at']))} : "
               f"{len(result['taken_in'])} incident(s) pris en charge, "
               f"{len(result['steps'])} étape(s) d'échéance, {result['delivered']} message(s) remis, "
               f"{result['failed']} échec(s) de remise.")
    for step in result["steps"]:
        skipped = f" (sautées : {', '.join(step['skipped'])})" if step["skipped"] else ""
        typer.echo(f"  {step['ref']} {step['obligation']} : {step['step']}{skipped}")


@app.command()
def serve(port: Annotated[int, typer.Option("--port", help="Port du serveur Prefect local.")] = 4200) -> None:
    """Démarrer le service : serveur Prefect local (sauf PREFECT_API_URL), déploiements intake et watchdog."""
    from cli.service import run_service

    with user_errors():
        load_parties()
        get_engine()
    run_service(port)
