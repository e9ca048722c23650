"""Every help screen and every usage error of `incidents` is in French: none of the framework's English words."""

import re
from collections.abc import Iterator

import pytest
import typer
from typer._click import Command
from typer.core import TyperGroup
from typer.testing import CliRunner

from cli.main import app

ENGLISH = ("Show this message", "Usage", "Options", "Commands", "Arguments", "Error", "Missing", "No such",
           "Invalid value", "default", "required", "Try", "[OPTIONS]", "COMMAND", "[ARGS]", "<str>", "<path>",
           "<int>", "Choose from", "Did you mean", "Got unexpected", "Aborted")


def command_paths(command: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command of the tree, the application itself first, as a user types it."""
    yield path
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from command_paths(sub, (*path, name))


PATHS = list(command_paths(typer.main.get_command(app)))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), prog_name="incidents", catch_exceptions=False)
    return result.exit_code, result.output


def assert_no_english(text: str) -> None:
    found = [word for word in ENGLISH if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)]
    assert not found, f"English words {found} in:\n{text}"


def test_the_tree_is_walked_whole():
    assert ("triage",) in PATHS and ("report", "steering") in PATHS and len(PATHS) > 20


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(path) or "incidents" for path in PATHS])
def test_every_help_screen_is_in_french(path):
    code, text = run(*path, "--help")

    assert code == 0
    assert_no_english(text)
    assert text.startswith(f"Utilisation : {' '.join(('incidents', *path))} [RÉGLAGES]")
    assert "Réglages :" in text and "--help  " in text and "Afficher cette aide." in text


def test_a_command_list_and_its_arguments_have_french_headings():
    _, top = run("--help")
    _, triage = run("triage", "--help")
    _, timeline = run("timeline", "--help")

    assert "Utilisation : incidents [RÉGLAGES] COMMANDE [PARAMÈTRES]..." in top and "Commandes :" in top
    assert "Utilisation : incidents triage [RÉGLAGES] {RÉFÉRENCE}" in triage and "Paramètres :" in triage
    assert "[obligatoire]" in triage and "--reason <texte>" in triage
    assert "[par défaut\u00a0: text]" in timeline and "-o, --output <chemin>" in timeline


def test_choices_are_the_values_to_type_explained_in_french():
    _, triage = run("triage", "--help")
    flat = " ".join(triage.split())

    assert "--scope <academy|shared|municipality>" in triage
    assert ("Portée retenue : academy (champ de compétence exclusif de l'académie), shared (champ de compétence "
            "partagé entre l'académie et la collectivité), municipality (champ de compétence exclusif de la "
            "collectivité).") in flat


USAGE_ERRORS = {
    "missing argument": (("show",), "Utilisation : incidents show [RÉGLAGES] {RÉFÉRENCE}",
                         "Erreur : paramètre manquant : RÉFÉRENCE"),
    "unknown option": (("show", "INC-2026-0001", "--jsn"), "Aide : incidents show --help",
                       "Erreur : réglage inconnu : « --jsn » (vouliez-vous dire « --json » ?)"),
    "bad choice": (("triage", "INC-2026-0001", "--scope", "commune"), "Aide : incidents triage --help",
                   "Erreur : valeur « commune » non reconnue pour --scope (valeurs possibles : academy, shared, "
                   "municipality)"),
    "missing required option": (("triage", "INC-2026-0001"), "Aide : incidents triage --help",
                                "Erreur : réglage obligatoire manquant : --scope (valeurs possibles : academy, "
                                "shared, municipality)"),
    "option without its value": (("triage", "INC-2026-0001", "--scope"), "Aide : incidents triage --help",
                                 "Erreur : le réglage « --scope » attend une valeur"),
    "unknown command": (("shwo",), "Aide : incidents --help",
                        "Erreur : commande inconnue : « shwo » (vouliez-vous dire « show » ?)"),
    "extra argument": (("show", "INC-2026-0001", "INC-2026-0002"), "Aide : incidents show --help",
                       "Erreur : paramètre en trop : « INC-2026-0002 »"),
    "not a number": (("serve", "--port", "quatre"), "Aide : incidents serve --help",
                     "Erreur : --port attend un nombre entier"),
    "bad filter": (("list", "--status", "fermé"), "Aide : incidents list --help",
                   "Erreur : valeur « fermé » non reconnue pour --status (valeurs possibles : queued, open, closed, "
                   "dismissed)"),
}


@pytest.mark.parametrize("args, usage, error", list(USAGE_ERRORS.values()), ids=list(USAGE_ERRORS))
def test_a_usage_error_is_told_in_french(args, usage, error):
    code, text = run(*args)

    assert code == 2
    assert_no_english(text)
    assert usage in text
    assert error in text.splitlines()


def test_no_arguments_shows_the_french_help():
    code, text = run()

    assert code == 2
    assert_no_english(text)
    assert text.startswith("Utilisation : incidents [RÉGLAGES] COMMANDE [PARAMÈTRES]...")
