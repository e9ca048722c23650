"""Read a YAML or JSON file a user hands to a command, within the bounds of models.bounds."""

import errno
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from models.bounds import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES
from models.errors import FieldError, InvalidInput
from rendering.formats import grouped

Refuse = Callable[[str], InvalidInput]

_TOO_DEEP = f"document trop imbriqué ({MAX_DEPTH} niveaux au plus)"
_TOO_LARGE = f"fichier trop volumineux ({grouped(MAX_FILE_BYTES)} octets au plus)"
_OS_PROBLEMS = {
    errno.ENOENT: "fichier introuvable",
    errno.ENOTDIR: "fichier introuvable",
    errno.EACCES: "fichier illisible : accès refusé",
    errno.EPERM: "fichier illisible : accès refusé",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ELOOP: "fichier illisible : trop de liens symboliques",
    errno.ENAMETOOLONG: "nom de fichier trop long",
}
_JSON_PROBLEMS = {  # json.JSONDecodeError.msg in French
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de champ attendu, entre guillemets doubles",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Extra data": "contenu en trop après le document",
    "Unterminated string starting at": "texte sans guillemet fermant",
    "Invalid control character at": "caractère de contrôle dans un texte",
    "Invalid \\escape": "séquence d'échappement invalide",
    "Invalid \\uXXXX escape": "séquence \\uXXXX invalide",
}


class _Loader(yaml.SafeLoader):
    """Safe YAML; a timestamp Python cannot build (month 13, year 0) stays text, for the models to refuse in French."""


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def read_document(path: Path) -> Any:
    """Parse YAML (a superset of JSON) or JSON; raise InvalidInput with a French message, naming the file as given."""
    field = str(path)

    def refuse(message: str) -> InvalidInput:
        return InvalidInput([FieldError(field, message)])

    data = _read_bounded(path, refuse)
    if b"\x00" in data:
        raise refuse("le fichier contient un caractère NUL : ce n'est pas un texte")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse("fichier illisible : il n'est pas encodé en UTF-8") from None
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as error:
        problem = _JSON_PROBLEMS.get(error.msg, "syntaxe invalide")
        raise refuse(f"JSON invalide ligne {error.lineno} : {problem}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" ligne {mark.line + 1}" if mark else ""
        raise refuse(f"YAML invalide{where}") from None
    except RecursionError:
        raise refuse(_TOO_DEEP) from None
    except ValueError:  # a number of thousands of digits, which Python refuses to convert
        raise refuse("valeur illisible : nombre trop long") from None
    _check_shape(document, refuse)
    return document


def _read_bounded(path: Path, refuse: Refuse) -> bytes:
    """At most MAX_FILE_BYTES bytes of a regular file, a pipe or a device; never waits for a pipe nobody writes to."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise refuse(_OS_PROBLEMS.get(error.errno or 0, "fichier illisible")) from None
    except ValueError:  # a NUL byte in the name
        raise refuse("nom de fichier invalide") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise refuse("c'est un dossier, pas un fichier")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            raise refuse("ce n'est pas un fichier ordinaire")
        if stat.S_ISREG(mode) and os.fstat(descriptor).st_size > MAX_FILE_BYTES:
            raise refuse(_TOO_LARGE)
        os.set_blocking(descriptor, True)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(descriptor, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise refuse(_TOO_LARGE)
        return b"".join(chunks)
    except OSError as error:
        raise refuse(_OS_PROBLEMS.get(error.errno or 0, "fichier illisible")) from None
    finally:
        os.close(descriptor)


def _check_shape(document: Any, refuse: Refuse) -> None:
    """Refuse a document nested deeper than MAX_DEPTH or holding more than MAX_VALUES values (YAML aliases count
    each time they are used, as the models would see them). Iterative: no depth can exhaust the stack."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    values = 0
    while pending:
        value, depth = pending.pop()
        values += 1
        if values > MAX_VALUES:
            raise refuse(f"document trop volumineux ({grouped(MAX_VALUES)} valeurs au plus)")
        if isinstance(value, dict | list | tuple):
            if depth > MAX_DEPTH:
                raise refuse(_TOO_DEEP)
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
