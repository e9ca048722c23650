"""Typer's own words in French: help screens, usage lines and usage errors.

Typer (0.29) carries its own copy of Click, whose help and error strings are English literals, not gettext
messages: no translation catalogue can reach them. So the command classes below, set once on the application
(`FrenchTyper`), write the help and the usage errors themselves; the values a user types (option names, choices)
stay as they are. Imports nothing heavier than Typer, so `incidents --help` stays quick.
"""

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from difflib import get_close_matches
from enum import Enum
from typing import IO, Any, NoReturn

import typer
from typer import _click
from typer._click.exceptions import (
    BadOptionUsage,
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

USAGE = "Utilisation : "
HELP_OPTION_TEXT = "Afficher cette aide."
OPTIONS_METAVAR = "[RÉGLAGES]"
SUBCOMMAND_METAVAR = "COMMANDE [PARAMÈTRES]..."
HEADINGS = {"Arguments": "Paramètres", "Options": "Réglages", "Commands": "Commandes"}
TYPE_NAMES = {"str": "texte", "path": "chemin", "int": "nombre entier", "float": "nombre", "datetime": "date",
              "bool": "oui/non"}
EXTRAS = (  # Typer's bracketed notes after an option's help: « [default: text; required] »
    (re.compile(r"^default: (.*)$", re.S), "par défaut\u00a0: {}"),
    (re.compile(r"^required$"), "obligatoire"),
    (re.compile(r"^env var: (.*)$", re.S), "variable d'environnement\u00a0: {}"),
)
_TYPE = re.compile(r"<(\w+)>")
_EXTRA = re.compile(r"\[([^\[\]]*)\]$")
_NOT_ONE_OF = re.compile(r"'(.*)' is not one of ", re.S)


def choices_help(labels: Mapping[Any, str]) -> str:
    """The values a user types for a choice, each explained in French: « academy (académie), shared (…) »."""
    return ", ".join(f"{_value(choice)} ({label})" for choice, label in labels.items())


class FrenchHelpFormatter(_click.HelpFormatter):
    """Click's help layout, with French headings, type names and notes."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)} :\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(_TYPE.sub(_type_name, term), _notes(text)) for term, text in rows], col_max, col_spacing)


class FrenchContext(_click.Context):
    formatter_class = FrenchHelpFormatter


class FrenchUsageError(UsageError):
    """A usage error told in French: the usage line, where to find help, then what is wrong."""

    def show(self, file: IO[Any] | None = None) -> None:
        out = file if file is not None else sys.stderr
        color = self.ctx.color if self.ctx is not None else None
        if self.ctx is not None:
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                hint = f"Aide : {self.ctx.command_path} {self.ctx.help_option_names[0]}\n"
            _click.echo(f"{self.ctx.get_usage()}\n{hint}", file=out, color=color)
        _click.echo(f"Erreur : {self.format_message()}", file=out, color=color)


class _InFrench(_click.Command):
    """What commands and groups share: the French context, help option and parsing errors."""

    context_class = FrenchContext

    def get_help_option(self, ctx: _click.Context) -> TyperOption | None:
        return _french_help_option(super().get_help_option(ctx))  # type: ignore[arg-type]

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        with _in_french(ctx):
            return super().parse_args(ctx, args)


class FrenchCommand(_InFrench, TyperCommand):
    pass


class FrenchGroup(_InFrench, TyperGroup):
    def resolve_command(self, ctx: _click.Context, args: list[str]) -> tuple[str | None, _click.Command | None,
                                                                              list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and not ctx.resilient_parsing and self.get_command(ctx, name) is None:
            close = get_close_matches(name, list(self.commands))
            suggestion = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
            _refuse(ctx, f"commande inconnue : « {_shown(name)} »{suggestion}")
        with _in_french(ctx):
            return super().resolve_command(ctx, args)

    def invoke(self, ctx: _click.Context) -> Any:
        with _in_french(ctx):  # « commande manquante », and any usage error a command raises itself
            return super().invoke(ctx)


class FrenchTyper(typer.Typer):
    """A Typer application whose help and usage errors are in French; its commands are `FrenchCommand`s."""

    def __init__(self, **settings: Any) -> None:
        defaults = {"cls": FrenchGroup, "rich_markup_mode": None, "options_metavar": OPTIONS_METAVAR,
                    "subcommand_metavar": SUBCOMMAND_METAVAR, "add_completion": False,
                    "pretty_exceptions_enable": False}
        super().__init__(**{**defaults, **settings})

    def command(self, *args: Any, **settings: Any) -> Any:
        return super().command(*args, **{"cls": FrenchCommand, **settings})


def _french_help_option(option: TyperOption | None) -> TyperOption | None:
    if option is not None:
        option.help = HELP_OPTION_TEXT
    return option


def _refuse(ctx: _click.Context | None, message: str) -> NoReturn:
    raise FrenchUsageError(message, ctx)


@contextmanager
def _in_french(ctx: _click.Context) -> Iterator[None]:
    try:
        yield
    except (FrenchUsageError, NoArgsIsHelpError):  # already French (the latter is the help screen itself)
        raise
    except UsageError as error:
        _refuse(error.ctx or ctx, french_message(error))


def french_message(error: UsageError) -> str:
    """What a usage error says, in French, from the error's own data rather than its English text."""
    if isinstance(error, NoSuchOption):
        close = sorted(error.possibilities or ())
        suggestion = f" (vouliez-vous dire {' ou '.join(f'« {name} »' for name in close)} ?)" if close else ""
        return f"réglage inconnu : « {_shown(error.option_name)} »{suggestion}"
    if isinstance(error, MissingParameter):
        name, choices = _hint(error.param, error.param_hint), _choices(error.param)
        possible = f" (valeurs possibles : {', '.join(choices)})" if choices else ""
        if isinstance(error.param, TyperArgument) or error.param_type == "argument":
            return f"paramètre manquant : {name}{possible}"
        return f"réglage obligatoire manquant : {name}{possible}"
    if isinstance(error, BadParameter):
        return _bad_value(error)
    if isinstance(error, BadOptionUsage):
        if "requires" in error.message:
            return f"le réglage « {error.option_name} » attend une valeur"
        if "does not take a value" in error.message:
            return f"le réglage « {error.option_name} » ne prend pas de valeur"
        return f"réglage « {error.option_name} » mal employé"
    extra = re.match(r"Got unexpected extra argument\S* \((.*)\)$", error.message, re.S)
    if extra:
        return f"paramètre en trop : « {_shown(extra.group(1))} »"
    if error.message.startswith("Missing command"):
        return "commande manquante"
    return "la ligne de commande n'est pas valide"


def _bad_value(error: BadParameter) -> str:
    name, choices = _hint(error.param, error.param_hint), _choices(error.param)
    if choices:
        typed = _NOT_ONE_OF.search(error.message)
        value = f" « {_shown(typed.group(1))} »" if typed else ""
        return f"valeur{value} non reconnue pour {name} (valeurs possibles : {', '.join(choices)})"
    descriptor = getattr(error.param, "type_descriptor", None)
    if descriptor is not None and descriptor.annotation is int:
        return f"{name} attend un nombre entier"
    return f"valeur non valide pour {name}"


def _hint(param: Any, param_hint: Sequence[str] | str | None) -> str:
    if isinstance(param_hint, str):
        return param_hint
    if param_hint:
        return " / ".join(param_hint)
    if isinstance(param, TyperOption):
        return " / ".join(param.opts)
    if isinstance(param, TyperArgument):
        return param.display_name_raw
    return "la valeur"


def _choices(param: Any) -> list[str]:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or not descriptor.is_choice:
        return []
    return [_value(choice) for choice in descriptor.choices or ()]


def _value(choice: Any) -> str:
    return str(choice.value) if isinstance(choice, Enum) else str(choice)


def _type_name(match: re.Match[str]) -> str:
    return f"<{TYPE_NAMES.get(match.group(1), match.group(1))}>"


def _notes(text: str) -> str:
    found = _EXTRA.search(text)
    if found is None:
        return text
    notes = []
    for part in found.group(1).split("; "):
        for pattern, french in EXTRAS:
            matched = pattern.match(part)
            if matched:
                part = french.format(*matched.groups())
                break
        notes.append(part)
    return f"{text[:found.start()]}[{'; '.join(notes)}]"


def _shown(text: str) -> str:
    """A word the user typed, echoed back harmless and short."""
    cleaned = "".join(char if char.isprintable() else "?" for char in text[:60])
    return cleaned + ("…" if len(text) > 60 else "")
