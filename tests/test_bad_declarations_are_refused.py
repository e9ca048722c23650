"""Bad input is refused with one clear French message naming the field, no traceback, and nothing written."""

import pytest

from tests.conftest import REFERENT, write_declaration
from tests.store_probe import row_counts

CASES = {
    "missing field": ({"title": None}, "champ « title » : champ obligatoire manquant"),
    "unknown category": ({"categories": ["vendor", "piratage"]},
                         "champ « categories[1] » : catégorie inconnue « piratage »"),
    "unknown commune": ({"municipality": "99999"}, "champ « municipality » : commune inconnue « 99999 »"),
    "school of another commune": ({"schools": ["0549001A", "0579001C"]},
                                  "champ « schools[1] » : l'école « 0579001C » n'appartient pas à la commune "
                                  "Villers-lès-Exemple (54999)"),
    "aware_at without offset": ({"aware_at": "2026-11-28T09:30:00"},
                                "champ « aware_at » : la date doit comporter un décalage horaire"),
    "aware_at in the future": ({"aware_at": "2026-11-28T10:30:00+01:00"},
                               "champ « aware_at » : la date est dans le futur"),
    "unknown declaring party": ({"declared_by": "prestataire"},
                                "champ « declared_by » : valeur non reconnue (valeurs possibles : 'academy' "
                                "ou 'municipality')"),
    "bad reporter email": ({"reporter": {"name": "X", "email": "pas-une-adresse"}},
                           "champ « reporter.email » : adresse électronique invalide"),
}


@pytest.mark.parametrize("changes, message", list(CASES.values()), ids=list(CASES))
def test_a_bad_declaration_is_refused_and_leaves_the_store_unchanged(plain_cli, store, tmp_path, changes, message):
    before = row_counts(store)

    result = plain_cli("declare", str(write_declaration(tmp_path, **changes)), "--by", REFERENT,
                       "--at", "2026-11-28T10:00:00+01:00")

    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("Refusé, rien n'a été enregistré :")
    assert "Traceback" not in result.output
    assert row_counts(store) == before
    assert not (tmp_path / "var" / "mail").exists()


def test_a_missing_file_is_named(plain_cli, tmp_path):
    result = plain_cli("declare", str(tmp_path / "absente.yaml"), "--by", REFERENT)
    assert result.exit_code == 2
    assert "absente.yaml » : fichier introuvable" in result.stderr


def test_malformed_yaml_is_refused_with_its_line(plain_cli, tmp_path):
    path = tmp_path / "cassee.yaml"
    path.write_text("title: ok\ncategories: [vendor\n", encoding="utf-8")
    result = plain_cli("declare", str(path), "--by", REFERENT)
    assert result.exit_code == 2
    assert "YAML invalide ligne" in result.stderr


def test_a_bad_instant_for_at_is_refused(plain_cli, tmp_path):
    result = plain_cli("declare", str(write_declaration(tmp_path)), "--by", REFERENT, "--at", "demain")
    assert result.exit_code == 2
    assert "champ « --at » : doit être une date ISO 8601 avec décalage horaire" in result.stderr
