"""`incidents db upgrade`: the one step that migrates a shared store (PostgreSQL) before the commands and the
workers use it; the embedded SQLite store migrates itself on first use. The store and Alembic are imported inside
the command: see cli/app.py on start-up."""

import typer

from cli.app import app, fail
from cli.french import FrenchTyper
from models.errors import cause
from settings.env import database_url

db_app = FrenchTyper(help="Schéma du registre.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade() -> None:
    """Appliquer les migrations en attente au registre (une seule à la fois, même lancée par plusieurs postes)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from models.db import SCHEMA_HEAD, StoreUnavailable, configured_engine, migrate, shown_url

    url = database_url()
    try:
        before = migrate(configured_engine(url))
    except (ArgumentError, NoSuchModuleError, OperationalError) as error:
        fail(str(StoreUnavailable(f"Base de données inaccessible ({shown_url(url)}, réglée par "
                                  f"INCIDENTS_DATABASE_URL) : {cause(error)}.")))
    if before == SCHEMA_HEAD:
        typer.echo(f"Le registre est déjà à jour (schéma en version {SCHEMA_HEAD}) ; rien n'a été changé.")
    else:
        typer.echo(f"Registre migré {'de la version ' + before if before else 'depuis un registre vide'} à la "
                   f"version {SCHEMA_HEAD}.")
