"""An error the user cannot fix by changing their input (the store, the network, a file) is told in French, never
by its class name (the brief: no internal code in user-facing text)."""

import sqlite3
from urllib.error import URLError

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from models.errors import cause


@pytest.mark.parametrize(("error", "told"), [
    (sqlite3.OperationalError("database is locked"), "base de données inaccessible ou occupée"),
    (OperationalError("SELECT 1", {}, sqlite3.OperationalError("locked")), "base de données inaccessible ou occupée"),
    (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE")), "une contrainte d'intégrité n'est pas respectée"),
    (URLError("refused"), "serveur injoignable"),
    (ConnectionRefusedError(111, "Connection refused"), "connexion refusée"),
    (FileNotFoundError(2, "No such file or directory"), "fichier introuvable"),
    (PermissionError(13, "Permission denied"), "permission refusée"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "texte qui n'est pas en UTF-8"),
    (KeyError("secret title"), "erreur interne"),
])
def test_an_error_is_told_in_french_without_its_class_or_its_detail(error, told):
    assert cause(error) == told
    assert type(error).__name__ not in cause(error)


def test_a_missing_output_folder_is_told_in_french(plain_cli, store, tmp_path):
    result = plain_cli("checkpoints", "-o", str(tmp_path / "absent" / "points.txt"))
    assert result.exit_code == 2, result.output
    assert "(fichier introuvable)" in result.stderr and "Error" not in result.stderr
