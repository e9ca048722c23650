"""Validate a user's document with pydantic, and say what is wrong in French, naming each field as written."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from models.errors import FieldError, InvalidInput

Model = TypeVar("Model", bound=BaseModel)

_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "string_type": "doit être un texte",
    "string_too_short": "ne doit pas être vide",
    "string_too_long": "texte trop long",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "bool_type": "doit valoir true ou false",
    "bool_parsing": "doit valoir true ou false",
    "greater_than_equal": "doit être positif ou nul",
    "list_type": "doit être une liste",
    "too_short": "la liste ne doit pas être vide",
    "model_type": "doit être un ensemble de champs (clé : valeur)",
    "model_attributes_type": "doit être un ensemble de champs (clé : valeur)",
    "datetime_type": "doit être une date ISO 8601 avec décalage horaire, par ex. 2026-03-28T10:00:00+01:00",
    "datetime_parsing": "doit être une date ISO 8601 avec décalage horaire, par ex. 2026-03-28T10:00:00+01:00",
    "datetime_from_date_parsing": "doit être une date ISO 8601 avec décalage horaire, "
                                  "par ex. 2026-03-28T10:00:00+01:00",
    "value_error": "adresse électronique invalide",
}


def validate_document(model: type[Model], raw: Any, what: str) -> Model:
    if not isinstance(raw, dict):
        raise InvalidInput([FieldError("(document)", f"{what} doit être un ensemble de champs (clé : valeur)")])
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput([FieldError(_field_path(item["loc"]), _message(item)) for item in error.errors()]) \
            from None


def _message(error: Any) -> str:
    if error["type"] == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("' or '", "' ou '")
        return f"valeur non reconnue (valeurs possibles : {expected})"
    return _MESSAGES.get(error["type"], error["msg"])


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
