"""`incidents`: the console entry point. Commands register themselves on the shared Typer app."""

import gc
import sys

from cli import (  # noqa: F401
    breach_commands,
    db_command,
    engine_commands,
    incident_commands,
    proof_commands,
    report_commands,
    status_command,
)
from cli.app import app
from cli.crash_log import log_unexpected
from models.errors import UNFORESEEN, cause

__all__ = ["app", "run"]


def run() -> None:
    """The console script: an error nobody foresaw is logged under var/logs/, never shown as a traceback (it may
    quote stored values: a title, a reporter's name)."""
    try:
        app()
    except Exception as error:  # noqa: BLE001 - the last net, after every foreseen error got its French message
        log = log_unexpected(" ".join(sys.argv[1:2]))
        told = cause(error)
        print(f"Erreur inattendue{'' if told == UNFORESEEN else f' ({told})'} ; la transaction en cours n'a pas été "
              "enregistrée. "
              f"Le détail est consigné pour l'administrateur dans {log}.", file=sys.stderr)
        sys.exit(70)
    finally:
        _before_exit()


def _before_exit() -> None:
    """The command is over and the process ends: close the store's connections ourselves, then freeze what is left,
    so that the interpreter's teardown does not collect, object by object, the cycles of every module a command
    loaded (a third of a second after a write through SQLAlchemy, for memory the process is about to return)."""
    db = sys.modules.get("models.db")  # never imported for this: a command that did not open the store has none
    if db is not None:
        db.dispose_engines()
    gc.freeze()
