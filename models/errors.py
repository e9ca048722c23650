"""Errors a user can fix: each names the field as the user wrote it, in French."""

import re
from dataclasses import dataclass

from models.field_labels import FIELD_LABELS


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"champ « {self.field} » : {self.message}"


class InvalidInput(Exception):
    """Refused input; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class Refused(Exception):
    """A transition its gate refuses (the message says why, in French); nothing was written."""


class NotFound(Exception):
    """No such incident."""


# What went wrong, in French, for an error a user cannot fix by changing their input (the store, the network, a
# file): its class name is not for them, and its message may quote stored values. First match along the class's
# ancestry; the class itself stays in the administrator's log.
CAUSES = {
    "IntegrityError": "une contrainte d'intégrité n'est pas respectée",
    "DataError": "une valeur est refusée par la base de données",
    "ProgrammingError": "requête refusée par la base de données",
    "InterfaceError": "connexion à la base de données rompue",
    "OperationalError": "base de données inaccessible ou occupée",
    "DatabaseError": "erreur de la base de données",
    "ArgumentError": "adresse de base de données mal formée",
    "NoSuchModuleError": "type de base de données inconnu",
    "URLError": "serveur injoignable",
    "HTTPStatusError": "le serveur a répondu par une erreur",
    "ConnectError": "connexion refusée",
    "ConnectionRefusedError": "connexion refusée",
    "ConnectionError": "connexion impossible",
    "TimeoutException": "délai dépassé",
    "TimeoutError": "délai dépassé",
    "PermissionError": "permission refusée",
    "FileNotFoundError": "fichier introuvable",
    "IsADirectoryError": "c'est un dossier, pas un fichier",
    "UnicodeDecodeError": "texte qui n'est pas en UTF-8",
    "UnicodeError": "caractères mal encodés",
    "JSONDecodeError": "JSON illisible",
    "RecursionError": "structure trop imbriquée",
    "MemoryError": "mémoire insuffisante",
    "OSError": "erreur du système",
    "ValueError": "valeur invalide",
}


UNFORESEEN = "erreur interne"
# SQLite's own words for a file that is damaged or is no database at all: they quote no stored value.
DAMAGED = ("database disk image is malformed", "file is not a database")


def not_text(error: BaseException) -> str | None:
    """A store holding bytes that are no UTF-8 text (written beside the door: the door writes only text), told by
    the column SQLite could not read; None for any other error. SQLite's message goes on to quote the stored bytes:
    only the column's name is said."""
    driver_error = getattr(error, "orig", None) or error
    column = re.match(r"Could not decode to UTF-8 column '([^']{1,64})'", str(driver_error))
    if column is None:
        return None
    label = f" ({FIELD_LABELS[column[1]]})" if column[1] in FIELD_LABELS else ""
    return f"la colonne « {column[1]} »{label} contient des octets qui ne sont pas du texte UTF-8, écrits hors de la " \
        "porte unique"


def unreadable(error: BaseException) -> str | None:
    """What makes the store unreadable, if `error` says so (a column that is no text, a damaged file); None for any
    other error. Reads fail on it as writes do: the fault is the store's, not the command's."""
    undecodable = not_text(error)
    if undecodable is not None:
        return undecodable
    driver_error = getattr(error, "orig", None) or error  # SQLAlchemy's wrapper keeps the driver's error as `orig`
    if type(driver_error).__name__ == "DatabaseError" and str(driver_error) in DAMAGED:
        return "fichier de la base endommagé, ou qui n'est pas une base SQLite"
    return None


def told(error: BaseException) -> str:
    """The message for a store's error, the same in the command line and the portal."""
    found = unreadable(error)
    if found is not None:
        return f"Registre illisible : {found}. Aucune modification n'y a été faite."
    return f"Le registre a refusé l'opération ({cause(error)}) ; aucune modification n'y a été faite."


def cause(error: BaseException) -> str:
    """`error` told in French, without its class name (CAUSES); UNFORESEEN for one nobody foresaw."""
    found = unreadable(error)
    if found is not None:
        return found
    for kind in type(error).__mro__:
        if kind.__name__ in CAUSES:
            return CAUSES[kind.__name__]
    return UNFORESEEN
