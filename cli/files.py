"""Read a YAML or JSON file a user hands to a command."""

import json
from pathlib import Path
from typing import Any

import yaml

from models.errors import FieldError, InvalidInput


def read_document(path: Path) -> Any:
    """Parse YAML (a superset of JSON) or JSON; raise InvalidInput with a French message on failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput([FieldError(str(path), "fichier introuvable")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput([FieldError(str(path), f"fichier illisible ({error})")]) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise InvalidInput([FieldError(str(path), f"JSON invalide ligne {error.lineno} : {error.msg}")]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" ligne {mark.line + 1}" if mark else ""
        raise InvalidInput([FieldError(str(path), f"YAML invalide{where}")]) from None
