"""Every input has bounds: a defect is refused in French naming the field, exit 2, no traceback, nothing written."""

import json
import os
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any

import pendulum
import pytest
import yaml

from cli.files import read_document
from models.bounds import check_instant, check_text
from models.declaration import parse_declaration
from models.errors import FieldError, InvalidInput
from models.reports_input import parse_closure, parse_follow_up
from settings.parties import load_parties
from tests.conftest import BASE_DECLARATION, MUNICIPALITY_REFERENT, free_port, write_declaration
from tests.store_probe import snapshot

AT = "2026-11-28T10:00:00+01:00"
REFUSED = "Refusé, rien n'a été enregistré :"


@pytest.fixture(autouse=True)
def _actor_and_no_orchestrator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTS_ACTOR", MUNICIPALITY_REFERENT)  # `declare` will require the acting person
    # Should a defect slip through, the handover fails fast instead of starting a Prefect server.
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")


def assert_store_unchanged(database: Path, before: dict[str, Any] | None) -> None:
    after = snapshot(database)
    if before is None:
        assert after is None or after["rows"].get("incident", 0) == 0, after
    else:
        assert after == before


def assert_refused(result: Any, store: Path, before: dict[str, Any] | None, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(REFUSED), result.stderr
    for line in expected:
        assert line in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert_store_unchanged(store, before)


FIELD_CASES = {
    "records past 2^63": ({"records": 2**63 + 1}, "champ « records » : nombre trop grand (10 000 000 au plus)"),
    "records past 2^31": ({"records": 2**31}, "champ « records » : nombre trop grand (10 000 000 au plus)"),
    "records just past the bound": ({"records": 10_000_001},
                                    "champ « records » : nombre trop grand (10 000 000 au plus)"),
    "pupils past 2^63": ({"data_subjects": {"pupils": 2**64}},
                         "champ « data_subjects.pupils » : nombre trop grand (10 000 000 au plus)"),
    "pupils past 2^31": ({"data_subjects": {"pupils": 2**31 + 7}},
                         "champ « data_subjects.pupils » : nombre trop grand (10 000 000 au plus)"),
    "negative staff": ({"data_subjects": {"staff": -1}}, "champ « data_subjects.staff » : doit être positif ou nul"),
    "records as a float": ({"records": 12.5}, "champ « records » : doit être un nombre entier"),
    "records as a boolean": ({"records": True}, "champ « records » : doit être un nombre entier"),
    "aware_at in year 1": ({"aware_at": "0001-01-01T00:00:00+01:00"},
                           "champ « aware_at » : date invraisemblable : antérieure au 1er janvier 2000"),
    "aware_at in 1900": ({"aware_at": "1900-01-01T00:00:00+00:00"},
                         "champ « aware_at » : date invraisemblable : antérieure au 1er janvier 2000"),
    "occurred_at in 1999": ({"occurred_at": "1999-12-31T23:59:59+00:00"},
                            "champ « occurred_at » : date invraisemblable : antérieure au 1er janvier 2000"),
    "aware_at as a number": ({"aware_at": 1764318600},
                             "champ « aware_at » : doit être une date ISO 8601 avec décalage horaire"),
    "aware_at in year 0": ({"aware_at": "0000-01-01T00:00:00+00:00"},
                           "champ « aware_at » : doit être une date ISO 8601 avec décalage horaire"),
    "aware_at on 30 February": ({"aware_at": "2026-02-30T10:00:00+01:00"},
                                "champ « aware_at » : doit être une date ISO 8601 avec décalage horaire"),
    "occurred_at in year 9999": ({"occurred_at": "9999-12-31T23:59:59-23:59"},
                                 "champ « occurred_at » : la date est dans le futur"),
    "occurred_at after aware_at": ({"occurred_at": "2026-11-28T09:31:00+01:00"},
                                   "champ « occurred_at » : l'incident ne peut pas avoir eu lieu après sa prise de "
                                   "connaissance (aware_at)"),
    "NUL character in title": ({"title": "Messagerie\x00ouverte"},
                               "champ « title » : caractère de contrôle interdit"),
    "line break in title": ({"title": "Messagerie\nouverte"},
                            "champ « title » : retour à la ligne ou tabulation interdits dans ce champ"),
    "escape character in reporter name": ({"reporter": {"name": "Référent\x1b[2J", "email": MUNICIPALITY_REFERENT}},
                                          "champ « reporter.name » : caractère de contrôle interdit"),
    "blank title": ({"title": "   "}, "champ « title » : ne doit pas être vide"),
    "title too long": ({"title": "x" * 301}, "champ « title » : texte trop long (300 caractères au plus)"),
    "description too long": ({"description": "x" * 20_001},
                             "champ « description » : texte trop long (20 000 caractères au plus)"),
    "reporter name too long": ({"reporter": {"name": "x" * 201, "email": MUNICIPALITY_REFERENT}},
                               "champ « reporter.name » : texte trop long (200 caractères au plus)"),
    "reporter email too long": ({"reporter": {"name": "X", "email": "a" * 250 + "@example.org"}},
                                "champ « reporter.email » : texte trop long (254 caractères au plus)"),
    "municipality too long": ({"municipality": "5" * 33}, "champ « municipality » : texte trop long (32 caractères "
                                                          "au plus)"),
    "school code too long": ({"schools": ["0549001A", "0" * 5000]},
                             "champ « schools[1] » : texte trop long (32 caractères au plus)"),
    "category with a control character": ({"categories": ["vendor\x07"]},
                                           "champ « categories[0] » : caractère de contrôle interdit"),
    "too many categories": ({"categories": ["vendor"] * 1001},
                            "champ « categories » : liste trop longue (1 000 éléments au plus)"),
    "number as a title": ({"title": 12}, "champ « title » : doit être un texte"),
}


@pytest.mark.parametrize("changes, message", list(FIELD_CASES.values()), ids=list(FIELD_CASES))
def test_a_field_out_of_bounds_is_refused_and_named(plain_cli, store, tmp_path, changes, message):
    before = snapshot(store)
    result = plain_cli("declare", str(write_declaration(tmp_path, **changes)), "--at", AT)
    assert_refused(result, store, before, message)


def test_a_nul_character_in_json_is_refused(plain_cli, store, tmp_path):
    path = tmp_path / "declaration.json"
    path.write_text(json.dumps({**BASE_DECLARATION, "title": "Messagerie\u0000ouverte"}), encoding="utf-8")
    before = snapshot(store)
    result = plain_cli("declare", str(path), "--at", AT)
    assert_refused(result, store, before, "champ « title » : caractère de contrôle interdit")


def test_a_lone_surrogate_in_json_is_refused(plain_cli, store, tmp_path):
    path = tmp_path / "declaration.json"
    path.write_text(json.dumps({**BASE_DECLARATION, "description": "texte \ud800 coupé"}), encoding="utf-8")
    before = snapshot(store)
    result = plain_cli("declare", str(path), "--at", AT)
    assert_refused(result, store, before, "champ « description » : caractère invalide (demi-codet UTF-16 isolé)")


def test_an_unknown_key_is_shown_safely(plain_cli, store, tmp_path):
    path = tmp_path / "declaration.json"
    path.write_text(json.dumps({**BASE_DECLARATION, "clé\x1b" + "x" * 5000: 1}), encoding="utf-8")
    before = snapshot(store)
    result = plain_cli("declare", str(path), "--at", AT)
    assert_refused(result, store, before, "champ « clé\\u001b" + "x" * 51 + "… » : champ inconnu")
    assert "\x1b" not in result.stderr


def raw_file(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


BASE_YAML = yaml.safe_dump(BASE_DECLARATION, allow_unicode=True, sort_keys=False)
FILE_CASES = {
    "YAML nested 5,000 deep": ("deep.yaml", "title: " + "[" * 5000 + "]" * 5000 + "\n",
                               "document trop imbriqué (20 niveaux au plus)"),
    "JSON nested 5,000 deep": ("deep.json", '{"title": ' + "[" * 5000 + "]" * 5000 + "}",
                               "document trop imbriqué (20 niveaux au plus)"),
    "YAML nested 21 deep": ("deep21.yaml", "title: " + "[" * 20 + "]" * 20 + "\n",
                            "document trop imbriqué (20 niveaux au plus)"),
    "YAML nested 1,200 deep in block style": ("block.yaml", "".join(f"{' ' * i}k:\n" for i in range(1200)),
                                              "document trop imbriqué (20 niveaux au plus)"),
    "YAML that refers to itself": ("loop.yaml", "title: &a [*a]\n", "document trop imbriqué (20 niveaux au plus)"),
    "YAML aliases multiplying a small file": (
        "bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                     + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
                               for i in range(8)),
        "document trop volumineux (100 000 valeurs au plus)"),
    "5 MB description, in JSON": ("big.json", json.dumps({**BASE_DECLARATION, "description": "x" * 5_000_000}),
                                  "fichier trop volumineux (1 000 000 octets au plus)"),
    "NUL byte in the file": ("nul.yaml", BASE_YAML.replace("Messagerie", "Messagerie\x00"),
                             "le fichier contient un caractère NUL"),
    "invalid UTF-8": ("latin1.yaml", BASE_YAML.encode("latin-1", "replace"),
                      "fichier illisible : il n'est pas encodé en UTF-8"),
    "number of 5,000 digits in JSON": ("digits.json", '{"records": ' + "9" * 5000 + "}",
                                       "valeur illisible : nombre trop long"),
    "number of 5,000 digits in YAML": ("digits.yaml", BASE_YAML + "records: " + "9" * 5000 + "\n",
                                       "valeur illisible : nombre trop long"),
    "broken JSON": ("broken.json", '{"title": "x",}', "JSON invalide ligne 1 : nom de champ attendu, entre "
                                                     "guillemets doubles"),
}


@pytest.mark.parametrize("name, content, message", list(FILE_CASES.values()), ids=list(FILE_CASES))
def test_a_file_out_of_bounds_is_refused_and_named(plain_cli, store, tmp_path, name, content, message):
    path = raw_file(tmp_path, name, content)
    before = snapshot(store)
    result = plain_cli("declare", str(path), "--at", AT)
    assert_refused(result, store, before, f"champ « {path} » : {message}")


def test_a_5_mb_description_is_refused_by_its_size(plain_cli, store, tmp_path):
    # Written by hand: yaml.safe_dump takes seconds over 5 MB.
    others = yaml.safe_dump({**BASE_DECLARATION, "description": None}, allow_unicode=True)
    content = others.replace("description: null", "description: Le prestataire signale " + "x" * 5_000_000)
    path = raw_file(tmp_path, "declaration.yaml", content)
    before = snapshot(store)
    result = plain_cli("declare", str(path), "--at", AT)
    assert_refused(result, store, before, f"champ « {path} » : fichier trop volumineux (1 000 000 octets au plus)")


def test_an_invalid_yaml_date_is_refused_in_french(plain_cli, store, tmp_path):
    # Unquoted, YAML reads it as a timestamp that Python cannot build; the model reads the text instead.
    unquoted = BASE_YAML.replace("'2026-11-28T09:30:00+01:00'", "2026-13-45T09:30:00+01:00")
    path = raw_file(tmp_path, "date.yaml", unquoted)
    before = snapshot(store)
    result = plain_cli("declare", str(path), "--at", AT)
    assert_refused(result, store, before, "champ « aware_at » : doit être une date ISO 8601 avec décalage horaire")


def test_declaring_dev_zero_is_refused_without_reading_it_all(plain_cli, store):
    before = snapshot(store)
    result = plain_cli("declare", "/dev/zero", "--at", AT)
    assert_refused(result, store, before, "champ « /dev/zero » : fichier trop volumineux (1 000 000 octets au plus)")


def test_a_directory_is_refused(plain_cli, store, tmp_path):
    before = snapshot(store)
    result = plain_cli("declare", str(tmp_path), "--at", AT)
    assert_refused(result, store, before, f"champ « {tmp_path} » : c'est un dossier, pas un fichier")


def test_a_pipe_nobody_writes_to_does_not_hang(plain_cli, store, tmp_path):
    fifo = tmp_path / "tube.yaml"
    os.mkfifo(fifo)
    before = snapshot(store)
    result = plain_cli("declare", str(fifo), "--at", AT)
    assert_refused(result, store, before, "champ « (document) » : la déclaration doit être un ensemble de champs")


def test_a_declaration_in_a_pipe_is_read():
    reading, writing = os.pipe()  # what `incidents declare <(…)` hands over: /dev/fd/N
    os.write(writing, BASE_YAML.encode("utf-8"))
    os.close(writing)
    try:
        assert read_document(Path(f"/dev/fd/{reading}")) == BASE_DECLARATION
    finally:
        os.close(reading)


def test_a_pipe_that_never_ends_is_cut_at_the_bound():
    reading, writing = os.pipe()

    def flood() -> None:
        with suppress(OSError), os.fdopen(writing, "wb") as stream:
            while True:
                stream.write(b"x" * 65536)

    writer = threading.Thread(target=flood, daemon=True)
    writer.start()
    path = Path(f"/dev/fd/{reading}")
    try:
        with pytest.raises(InvalidInput) as refused:
            read_document(path)
    finally:
        os.close(reading)
        writer.join(timeout=10)
    assert refused.value.errors == [FieldError(str(path), "fichier trop volumineux (1 000 000 octets au plus)")]
    assert not writer.is_alive()


def test_the_example_declaration_and_the_test_base_are_still_valid():
    now = pendulum.parse(AT)
    assert isinstance(now, pendulum.DateTime)
    parties = load_parties()
    example = parse_declaration(read_document(Path(__file__).parents[1] / "examples" / "declaration.yaml"),
                                parties, now)
    assert (example.records, example.data_subjects.pupils, example.schools) == (1800, 240, ["0549001A"])
    assert example.description.endswith("ont pu être consultés.\n")  # a folded block keeps its line break
    base = parse_declaration(BASE_DECLARATION, parties, now)
    assert base.title == BASE_DECLARATION["title"]


def test_an_unquoted_yaml_date_is_still_read(tmp_path):
    now = pendulum.parse(AT)
    assert isinstance(now, pendulum.DateTime)
    unquoted = BASE_YAML.replace("'2026-11-28T09:30:00+01:00'", "2026-11-28 09:30:00+01:00")
    declaration = parse_declaration(read_document(raw_file(tmp_path, "d.yaml", unquoted)), load_parties(), now)
    assert declaration.aware_at == pendulum.datetime(2026, 11, 28, 8, 30, tz="UTC")


def test_occurred_at_equal_to_aware_at_is_allowed():
    now = pendulum.parse(AT)
    assert isinstance(now, pendulum.DateTime)
    declaration = parse_declaration({**BASE_DECLARATION, "occurred_at": BASE_DECLARATION["aware_at"],
                                     "records": 10_000_000}, load_parties(), now)
    assert declaration.occurred_at == declaration.aware_at
    assert declaration.records == 10_000_000


def test_report_free_text_is_bounded(tmp_path):
    follow_up = raw_file(tmp_path, "follow-up.yaml", yaml.safe_dump(
        {"done": "Correctif\tappliqué.\nSuite demain.", "planned": "x" * 20_001, "impact": "Aucun\x00"}))
    with pytest.raises(InvalidInput) as refused:
        parse_follow_up(read_document(follow_up))
    assert refused.value.errors == [
        FieldError("planned", "texte trop long (20 000 caractères au plus)"),
        FieldError("impact", "caractère de contrôle interdit"),
    ]
    closure = raw_file(tmp_path, "closure.yaml", yaml.safe_dump(
        {"summary": "Résolu.", "measures": "Correctif.", "root_cause": "\x7f"}))
    with pytest.raises(InvalidInput) as refused:
        parse_closure(read_document(closure))
    assert refused.value.errors == [FieldError("root_cause", "caractère de contrôle interdit")]


def test_command_line_text_is_checked_with_the_same_bounds():
    assert check_text("Doublon de INC-2026-0001", "--reason", 2_000) == []
    assert check_text("x" * 2_001, "--reason", 2_000) == [
        FieldError("--reason", "texte trop long (2 000 caractères au plus)")]
    assert check_text("ligne 1\nligne 2", "--channel", 300) == [
        FieldError("--channel", "retour à la ligne ou tabulation interdits dans ce champ")]
    assert check_text("ligne 1\nligne 2", "--rationale", 2_000, multiline=True) == []
    assert check_text("", "--by", 254) == [FieldError("--by", "ne doit pas être vide")]


def test_command_line_instants_are_checked_with_the_same_bounds():
    now = pendulum.datetime(2026, 11, 28, 9, tz="UTC")
    assert check_instant(pendulum.datetime(2026, 11, 28, 9, tz="UTC"), "--at", now) == []
    assert check_instant(pendulum.datetime(1999, 12, 31, 23, 59, 59, tz="UTC"), "--at", now) == [
        FieldError("--at", "date invraisemblable : antérieure au 1er janvier 2000")]
    assert check_instant(pendulum.datetime(2026, 11, 28, 9, 0, 1, tz="UTC"), "--at", now) == [
        FieldError("--at", "la date est dans le futur")]
