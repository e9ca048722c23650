"""The Typer application and what every command shares: French errors, instants, JSON output.

Start-up: this module and the command modules load no store (SQLAlchemy, SQLModel), no Prefect, no renderer at
import time, so that `incidents --help` answers at once; each command imports what it uses in its body
(tests/test_cli_start_up.py)."""

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from cli.french import FrenchTyper
from models.errors import FieldError, InvalidInput, NotFound, Refused, told
from settings.env import SettingsError

if TYPE_CHECKING:
    import pendulum

    from models.commands import AnyCommand
    from settings.parties import Person

app = FrenchTyper(help="Coordination des incidents de sécurité de l'ENT entre l'académie et les collectivités.",
                  no_args_is_help=True)

RefArgument = Annotated[str, typer.Argument(metavar="RÉFÉRENCE", help="Référence de l'incident, par exemple "
                                                                   "INC-2026-0001.", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Sortie JSON lisible par une machine.")]
AtOption = Annotated[str | None, typer.Option("--at", help="Faire comme si l'on était à cet instant (ISO 8601 avec "
                                                           "décalage) ; par défaut : maintenant. Pour une commande "
                                                           "qui écrit, sur un registre de simulation seulement.")]
ByOption = Annotated[str | None, typer.Option("--by", help="Qui agit ou consulte : l'adresse électronique d'une "
                                                           "personne du fichier des parties (à défaut, la variable "
                                                           "INCIDENTS_ACTOR).")]


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
    except SettingsError as error:
        fail(str(error), 2)
    except (Refused, NotFound) as error:
        fail(str(error))
    except Exception as error:
        if isinstance(error, _loaded("settings.parties", "PartiesConfigError") + _loaded("models.db",
                                                                                         "StoreUnavailable")):
            fail(str(error))
        if isinstance(error, _loaded("proof.errors", "ProofError")):  # a key, a checkpoint or a proof refused
            fail(f"Refusé : {error}.", 2)
        # The ORM's errors, or the drivers' own (the plain reads'); never their detail: it may quote the stored
        # values (a title, a reporter's name).
        if isinstance(error, _loaded("sqlalchemy.exc", "SQLAlchemyError") + _loaded("sqlite3", "Error")
                      + _loaded("psycopg", "Error") + _loaded("models.driver", "DriverError")):
            fail(told(error))
        raise


def _loaded(module: str, name: str) -> tuple[type[Exception], ...]:
    """The error class `name` of `module` if that module is loaded, else nothing: an error of a module never
    imported cannot have been raised, and naming it here must not import the store or the parties' file."""
    found = sys.modules.get(module)
    return (getattr(found, name),) if found is not None else ()


def person(by: str | None) -> "Person":
    """The person named by --by (or INCIDENTS_ACTOR), who must be declared in the parties' file."""
    from models.bounds import MAX_EMAIL, text_defect
    from settings.parties import load_parties

    value = by if by is not None else os.environ.get("INCIDENTS_ACTOR")
    if value is None or not value.strip():
        raise InvalidInput([FieldError("--by", "indiquez qui agit : --by adresse électronique, ou la variable "
                                               "INCIDENTS_ACTOR")])
    if text_defect(value, MAX_EMAIL) is not None:
        raise InvalidInput([FieldError("--by", "adresse électronique invalide")])
    found = load_parties().person(value)
    if found is None:
        raise InvalidInput([FieldError("--by", f"« {value.strip()} » n'est pas une personne déclarée dans le "
                                               "fichier des parties")])
    return found


def act(command: "AnyCommand", by: str | None, at: str | None) -> Any:
    """Hand a command to the door, by the named person, as of `--at`; committed, or nothing written."""
    from models.door import run

    now = instant(at)
    actor = person(by)
    return run(command, actor, now)


def instant(at: str | None, writes: bool = True) -> "pendulum.DateTime":
    """The replay instant of `--at`: for a command that writes, on a simulation store only."""
    from models.clock import act_as_of

    return act_as_of(at, writes)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
