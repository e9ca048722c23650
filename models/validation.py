"""Validate a user's document with pydantic, and say what is wrong in French, naming each field as written."""

import math
import unicodedata
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

from models.bounds import ISO_INSTANT, LONE_SURROGATE, REFUSED
from models.errors import FieldError, InvalidInput
from rendering.formats import grouped

Model = TypeVar("Model", bound=BaseModel)

MAX_FIELD_NAME = 60  # a field name is echoed back; an unknown key a user wrote may be anything

_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "string_type": "doit être un texte",
    "string_too_short": "ne doit pas être vide",
    "string_unicode": LONE_SURROGATE,  # pydantic's word for it
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_parsing_size": "nombre entier illisible (trop de chiffres)",
    "int_from_float": "doit être un nombre entier",
    "float_type": "doit être un nombre",
    "float_parsing": "doit être un nombre",
    "bool_type": "doit valoir true ou false",
    "bool_parsing": "doit valoir true ou false",
    "list_type": "doit être une liste",
    "model_type": "doit être un ensemble de champs (clé : valeur)",
    "model_attributes_type": "doit être un ensemble de champs (clé : valeur)",
    "dict_type": "doit être un ensemble de champs (clé : valeur)",
    "datetime_type": ISO_INSTANT,
    "datetime_parsing": ISO_INSTANT,
    "datetime_from_date_parsing": ISO_INSTANT,
    "datetime_object_invalid": ISO_INSTANT,
    "value_error": "valeur non valide",
    "boolean_for_number": "doit être un nombre, pas true ou false",
    "finite_number": "doit être un nombre fini",
}


def _not_a_boolean(value: Any) -> Any:
    # pydantic reads true as 1 (a bool is an int in Python): YAML's `true` where a number belongs is a slip to name.
    if isinstance(value, bool):
        raise PydanticCustomError("boolean_for_number", "a boolean where a number belongs")
    if isinstance(value, float) and not math.isfinite(value):  # YAML's .nan and .inf, before any bound is compared
        raise PydanticCustomError("finite_number", "not a finite number")
    return value


# A number a user writes, never true or false.
IntNotBool = Annotated[int, BeforeValidator(_not_a_boolean)]
FloatNotBool = Annotated[float, BeforeValidator(_not_a_boolean)]


def validate_document(model: type[Model], raw: Any, what: str, context: dict[str, Any] | None = None) -> Model:
    """The document as `model`, or InvalidInput naming every bad field at once; `context` reaches the model's own
    checks (the parties' file, the current instant)."""
    if not isinstance(raw, dict):
        raise InvalidInput([FieldError("(document)", f"{what} doit être un ensemble de champs (clé : valeur)")])
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as error:
        raise InvalidInput([FieldError(field_path(item["loc"]), french_message(item)) for item in error.errors()]) \
            from None


def french_message(error: Any) -> str:
    """What is wrong with one field, in French, from one of pydantic's errors."""
    kind, context = error["type"], error.get("ctx") or {}
    if kind == REFUSED:
        return str(error["msg"])  # already in French (models.bounds)
    if kind == "literal_error":
        expected = str(context.get("expected", "")).replace("' or '", "' ou '")
        return f"valeur non reconnue (valeurs possibles : {expected})"
    if kind == "string_too_long":
        return f"texte trop long ({grouped(int(context['max_length']))} caractères au plus)"
    if kind == "too_long":
        return f"liste trop longue ({grouped(int(context['max_length']))} éléments au plus)"
    if kind == "too_short":
        return "la liste ne doit pas être vide"
    if kind == "less_than_equal":
        return f"nombre trop grand ({_number(context, 'le')} au plus)"
    if kind == "less_than":
        return f"nombre trop grand (moins de {_number(context, 'lt')})"
    if kind == "greater_than_equal":
        return "doit être positif ou nul" if context.get("ge") == 0 else \
            f"nombre trop petit ({_number(context, 'ge')} au moins)"
    if kind == "greater_than":
        return "doit être strictement positif" if context.get("gt") == 0 else \
            f"nombre trop petit (plus de {_number(context, 'gt')})"
    if kind == "value_error" and "email" in str(error.get("msg", "")):
        return "adresse électronique invalide"
    return _MESSAGES.get(kind, "valeur non valide")


def _number(context: dict[str, Any], *keys: str) -> str:
    value = next(context[key] for key in keys if key in context)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a bound on hours: 87 840, not 87840.0
    return grouped(value) if isinstance(value, int) else str(value).replace(".", ",")


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{_shown(part)}" if path else _shown(part))
    return path


def _shown(name: str) -> str:
    """A key as the user wrote it, made safe to print: control characters escaped, long names shortened."""
    safe = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cs") else c for c in str(name))
    return safe if len(safe) <= MAX_FIELD_NAME else safe[:MAX_FIELD_NAME] + "…"
