"""What `show`, `list`, `watch` and `timeline` print is French a user can read: labels, Paris times, no enum codes;
and a declaration's mistakes come back all at once."""

import enum
import importlib
import json
import pkgutil
import re

import pytest

import models
import policy
from models.declaration import capped
from tests.conftest import AUDITOR, DPD, REFERENT, TRIAGER, write_declaration

MONTIGNY_REFERENT = "numerique@montigny-sur-exemple.example.org"
DECLARED = "2026-11-28T10:00:00+01:00"
LATER = "2026-12-03T20:00:00+01:00"  # the CNIL's 72 hours and the subjects' clock have run out


def enum_values() -> set[str]:
    """Every value of the project's enums in policy/ and models/."""
    values: set[str] = set()
    for package in (policy, models):
        for module_info in pkgutil.iter_modules(package.__path__):
            if module_info.name == "migrations":
                continue
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            values |= {member.value for obj in vars(module).values()  # text codes: a rank (0, 1, 2) is none
                       if isinstance(obj, type) and issubclass(obj, enum.Enum) and obj.__module__ == module.__name__
                       for member in obj if isinstance(member.value, str)}
    return values


FRENCH_WORDS = {"final", "met", "sent", "triage", "ok", "admin"}  # values that are also ordinary French words
CODES = enum_values() - FRENCH_WORDS


def codes_in(text: str) -> set[str]:
    """Enum codes a reader would see, addresses and the commands one types (« incidents watch ») aside."""
    prose = re.sub(r"[\w.+-]+@[\w.-]+", " ", text)
    prose = re.sub(r"« incidents [^»]* »", " ", prose)
    return {code for code in CODES if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", prose)}


def run(cli, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


@pytest.fixture
def two_incidents(plain_cli, tmp_path):
    """A possible breach at Villers-lès-Exemple, assessed and decided, its clocks run out; a plain outage at
    Montigny-sur-Exemple."""
    assessment = tmp_path / "assessment.yaml"
    assessment.write_text("data_types: [behavioural]\nease_of_identification: maximum\nconfidentiality: limited\n"
                          "nature: Messages d'élèves exposés.\nconsequences: Atteinte à la vie privée.\n"
                          "measures: Accès coupé.\n", encoding="utf-8")
    breach = write_declaration(tmp_path, "breach.yaml", title="Comptes ENT d'élèves accessibles sans mot de passe",
                               personal_data="unknown", categories=["vendor", "personal_data"],
                               occurred_at="2026-11-27T23:10:00+01:00", schools=["0549001A"],
                               data_subjects={"pupils": 240, "staff": 1}, records=1800)
    outage = write_declaration(tmp_path, "outage.yaml", title="ENT indisponible", municipality="57999",
                               categories=["availability"], reporter={"name": "Service numérique",
                                                                      "email": MONTIGNY_REFERENT})
    run(plain_cli, "declare", str(breach), "--by", REFERENT, "--at", DECLARED)
    run(plain_cli, "declare", str(outage), "--by", MONTIGNY_REFERENT, "--at", DECLARED)
    run(plain_cli, "assess", "INC-2026-0001", "--file", str(assessment), "--by", DPD,
        "--at", "2026-11-28T11:00:00+01:00")
    run(plain_cli, "decide", "INC-2026-0001", "--cnil", "yes", "--subjects", "yes", "--rationale", "Prudence.",
        "--by", DPD, "--at", "2026-11-28T12:00:00+01:00")
    return plain_cli


def test_show_says_everything_the_incident_says_in_french(two_incidents):
    text = run(two_incidents, "show", "INC-2026-0001", "--by", AUDITOR, "--at", LATER)
    lines = text.splitlines()

    assert lines[:18] == [
        "INC-2026-0001 — Comptes ENT d'élèves accessibles sans mot de passe",
        "État : ouvert",
        "Description : Le prestataire signale une mise à jour défectueuse de la messagerie.",
        "Déclaré par : la collectivité",
        "Commune : Villers-lès-Exemple (INSEE 54999)",
        "Écoles : École élémentaire Jules-Ferry (UAI 0549001A)",
        "Signalé par : Référent ENT (referent-ent@villers-les-exemple.example.org)",
        "Catégories : prestataire exploitant de l'ENT ; coresponsabilité des données à caractère personnel",
        "Données personnelles : oui",  # declared « unknown », then assessed by the DPD
        "Personnes concernées : 240 élèves, 1 personnel",
        "Enregistrements concernés : 1 800",
        "Connu depuis : le samedi 28 novembre 2026 à 09h30 (heure de Paris)",
        "Survenu : le vendredi 27 novembre 2026 à 23h10 (heure de Paris)",
        "Déclaré : le samedi 28 novembre 2026 à 10h00 (heure de Paris)",
        "Portée (proposée) : champ de compétence partagé entre l'académie et la collectivité",
        "Accusé de réception de l'alerte : pas encore reçu",
        "Violation de données personnelles : déjà décidée par le DPD ; gravité élevée ; décision : notifier la CNIL, "
        "informer les personnes concernées",
        "Obligations :",
    ]
    assert ("  Alerte de l'autre partie, à la charge de la collectivité : remplie dans le délai ; échéance le lundi "
            "30 novembre 2026 à 09h30 (heure de Paris) ; remplie le samedi 28 novembre 2026 à 10h00 "
            "(heure de Paris)") in lines
    assert ("  Notification à la CNIL, à la charge de l'académie : échéance dépassée depuis 2 jours 10 heures "
            "30 minutes ; échéance le mardi 1er décembre 2026 à 09h30 (heure de Paris)") in lines
    assert "  Alerte de l'autre partie → rssi@ac-nancy-metz.example.org : remis (1 tentative)" in lines
    assert not re.search(r"\d{4}-\d\d-\d\dT", text)
    assert codes_in(text) == set()


def test_list_has_french_headings_and_each_incidents_obligations(two_incidents):
    text = run(two_incidents, "list", "--by", AUDITOR, "--at", LATER)
    lines = text.splitlines()

    assert re.split(r"\s{2,}", lines[0]) == ["Référence", "État", "Commune", "Portée", "Titre"]
    assert re.split(r"\s{2,}", lines[1]) == [
        "INC-2026-0001", "ouvert", "Villers-lès-Exemple (INSEE 54999)",
        "champ de compétence partagé entre l'académie et la collectivité",
        "Comptes ENT d'élèves accessibles sans mot de passe"]
    assert lines[2].strip() == ("Obligations : alerte de l'autre partie : remplie dans le délai ; notification à la "
                                "CNIL : échéance dépassée ; point de suivi à l'autre partie : en cours ; information "
                                "des personnes concernées : échéance dépassée")
    assert codes_in(text) == set()


FILTERS = {
    "commune by name": (("--commune", "montigny-sur-exemple"), ["INC-2026-0002"]),
    "commune by INSEE code": (("--commune", "54999"), ["INC-2026-0001"]),
    "overdue only": (("--overdue",), ["INC-2026-0001"]),
    "scope": (("--scope", "municipality"), ["INC-2026-0002"]),
    "status": (("--status", "open"), ["INC-2026-0001", "INC-2026-0002"]),
    "all together": (("--status", "open", "--scope", "shared", "--commune", "Villers-lès-Exemple", "--overdue"),
                     ["INC-2026-0001"]),
}


@pytest.mark.parametrize("options, refs", list(FILTERS.values()), ids=list(FILTERS))
def test_list_filters_apply_to_text_and_json_alike(two_incidents, options, refs):
    text = run(two_incidents, "list", *options, "--by", AUDITOR, "--at", LATER)
    data = json.loads(run(two_incidents, "list", *options, "--json", "--by", AUDITOR, "--at", LATER))

    assert [view["ref"] for view in data] == refs
    assert sorted(re.findall(r"^INC-\d{4}-\d{4}", text, re.M)) == refs


def test_a_filter_never_widens_what_a_commune_may_read(two_incidents):
    text = run(two_incidents, "list", "--commune", "57999", "--by", REFERENT, "--at", LATER)

    assert text == "Aucun incident ne correspond à ces critères.\n"


def test_an_unknown_commune_filter_names_the_option_and_the_configured_communes(two_incidents):
    result = two_incidents("list", "--commune", "Nulle-part", "--by", AUDITOR)

    assert result.exit_code == 2
    assert result.stderr == ("Refusé, rien n'a été enregistré :\n  - champ « --commune » : commune inconnue "
                             "« Nulle-part » ; communes configurées : Villers-lès-Exemple (54999), "
                             "Montigny-sur-Exemple (57999), Saint-Exemple-des-Vosges (88999)\n")


def test_watch_names_obligations_and_steps_in_french(two_incidents):
    preview = run(two_incidents, "watch", "--dry-run", "--by", TRIAGER, "--at", LATER)
    text = run(two_incidents, "watch", "--by", TRIAGER, "--at", LATER)

    assert ("  INC-2026-0001 — notification à la CNIL : avis d'échéance dépassée (étapes sautées : rappel à 50 % du "
            "délai, rappel à 75 % du délai, escalade à 90 % du délai)") in text.splitlines()
    assert text.startswith("Passe du moteur du jeudi 3 décembre 2026 à 20h00 (heure de Paris) : 0 incident pris en "
                           "charge, ")
    assert "  INC-2026-0001 — information des personnes concernées : avis d'échéance dépassée" in preview
    assert codes_in(text) == set() and codes_in(preview) == set()


def test_timeline_and_the_breach_commands_print_no_codes(two_incidents, tmp_path):
    personal = run(two_incidents, "personal-data", "INC-2026-0002", "--value", "unknown", "--aware-at",
                   "2026-11-29T09:00:00+01:00", "--by", TRIAGER, "--at", "2026-11-29T10:00:00+01:00")
    run(two_incidents, "watch", "--by", TRIAGER, "--at", LATER)
    timeline = run(two_incidents, "timeline", "INC-2026-0001", "--by", AUDITOR)

    assert personal == "Données personnelles de INC-2026-0002 : à déterminer.\n"
    assert codes_in(timeline) == set()


def test_every_mistake_of_a_declaration_comes_back_in_one_run(plain_cli, tmp_path):
    path = write_declaration(tmp_path, title=None, municipality="54990", categories=["vendor", "piratage"],
                             occurred_at="2026-11-29T09:30:00+01:00",
                             reporter={"name": "Référent", "email": "pas-une-adresse"})

    result = plain_cli("declare", str(path), "--by", REFERENT, "--at", DECLARED)

    assert result.exit_code == 2
    assert [line.split(" : ")[0] for line in result.stderr.splitlines()[1:]] == [
        "  - champ « title »", "  - champ « municipality »", "  - champ « reporter.email »",
        "  - champ « occurred_at »", "  - champ « categories[1] »"]
    assert ("champ « municipality » : commune inconnue « 54990 » ; communes configurées : Villers-lès-Exemple "
            "(54999), Montigny-sur-Exemple (57999), Saint-Exemple-des-Vosges (88999)") in result.stderr


def test_a_school_of_another_commune_is_refused_with_the_communes_schools(plain_cli, tmp_path):
    path = write_declaration(tmp_path, schools=["0579001C"], aware_at="2026-11-28T11:30:00+01:00")

    result = plain_cli("declare", str(path), "--by", REFERENT, "--at", DECLARED)

    assert result.stderr.splitlines()[1:] == [
        "  - champ « aware_at » : la date est dans le futur",
        "  - champ « schools[0] » : l'école « 0579001C » n'appartient pas à la commune Villers-lès-Exemple (54999) "
        "; écoles configurées : École élémentaire Jules-Ferry (0549001A), École maternelle Les Tilleuls (0549002B)"]


def test_a_long_list_of_communes_is_cut_at_twenty():
    assert capped([f"Commune {n}" for n in range(1, 26)]) == \
        ", ".join(f"Commune {n}" for n in range(1, 21)) + " et 5 autres"
    assert capped(["A", "B"]) == "A, B"
