"""The Typer application and what every command shares: French errors, instants, JSON output."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import pendulum
import typer

from models.db import StoreUnavailable
from models.errors import FieldError, InvalidInput, NotFound, Refused
from settings.parties import PartiesConfigError

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
    except (Refused, NotFound, PartiesConfigError, StoreUnavailable) as error:
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
