"""Bounds on every user input: how long, how large, how deep, how far back; each refusal in French.

Each limit carries the reason for its value. The pydantic types below apply them to the documents users file;
`check_text` and `check_instant` apply the same limits to command-line options (`--reason`, `--by`, `--at`…).
"""

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, EmailStr, Field, GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from models.errors import FieldError
from rendering.formats import grouped

MAX_TITLE = 300  # an e-mail subject line; the incident.title column holds 300
MAX_DESCRIPTION = 20_000  # about ten pages: the facts, not the attachments
MAX_NAME = 200  # a person's full name; the incident.reporter_name column holds 200
MAX_EMAIL = 254  # the longest address SMTP can carry (RFC 5321 path limit)
MAX_CODE = 32  # INSEE codes, UAI numbers, category codes: a few characters, echoed back in refusals
MAX_NOTE = 500  # an attachment's note; the attachment.note column holds 500
MAX_SHORT_TEXT = 2_000  # reasons, rationales, channels: a paragraph
MAX_REFERENCE = 100  # a CNIL filing reference; the cnil_filing.reference column holds 100
MAX_CHANNEL = 300  # how the persons were informed; the subjects_notice.channel column holds 300
MAX_LONG_TEXT = 20_000  # report and assessment free text, like a description
MAX_ITEMS = 1_000  # entries of a list (schools, categories…): more than the écoles of the largest commune
MAX_COUNT = 10_000_000  # records, data subjects: more than every pupil in France, and it fits a PostgreSQL int4
MAX_FILE_BYTES = 1_000_000  # a declaration is a few kilobytes; a megabyte is already a mistake
MAX_DEPTH = 20  # nesting of a document: ours go three levels deep
MAX_VALUES = 100_000  # values in one document: stops YAML aliases that multiply a small file into billions
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)  # before any ENT existed

REFUSED = "refused"  # pydantic error type of our own refusals; models.validation shows their message as is
ISO_INSTANT = "doit être une date ISO 8601 avec décalage horaire, par ex. 2026-03-28T10:00:00+01:00"
LONE_SURROGATE = "caractère invalide (demi-codet UTF-16 isolé)"  # what a JSON "\ud800" decodes to
_ALLOWED_IN_MULTILINE = frozenset("\n\r\t")


# Unicode's noncharacters are never text (XML refuses them, so a draft could not be written); the explicit
# direction overrides and isolates can make a file name or a sender read backwards (CVE-2021-42574).
_DIRECTION_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_noncharacter(character: str) -> bool:
    code = ord(character)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def text_defect(value: str, max_len: int, multiline: bool = False, min_len: int = 1) -> str | None:
    """What is wrong with a text, in French, or None. Never echoes the text."""
    if len(value) > max_len:
        return f"texte trop long ({grouped(max_len)} caractères au plus)"
    if len(value) < min_len or (min_len > 0 and not value.strip()):
        return "ne doit pas être vide"
    for character in value:
        category = unicodedata.category(character)
        if category == "Cs":
            return LONE_SURROGATE
        if _is_noncharacter(character):
            return "caractère non textuel interdit (U+FFFE, U+FFFF ou de la même famille)"
        if character in _DIRECTION_OVERRIDES:
            return "caractère de contrôle du sens d'écriture interdit : il peut faire lire un texte à l'envers"
        if category == "Cc" and not (multiline and character in _ALLOWED_IN_MULTILINE):
            if character in _ALLOWED_IN_MULTILINE:
                return "retour à la ligne ou tabulation interdits dans ce champ"
            return "caractère de contrôle interdit"
    return None


def instant_defect(value: datetime, now: datetime) -> str | None:
    """What is wrong with an instant a user gives, in French, or None."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "la date doit comporter un décalage horaire, par ex. 2026-03-28T10:00:00+01:00"
    if value < EARLIEST_INSTANT:
        return "date invraisemblable : antérieure au 1er janvier 2000"
    if value > now:
        return "la date est dans le futur"
    return None


def check_text(value: str, field: str, max_len: int, multiline: bool = False) -> list[FieldError]:
    """The refusal of a free-text option (`--reason`, `--channel`…), naming the field; empty when the text is fine."""
    defect = text_defect(value, max_len, multiline)
    return [FieldError(field, defect)] if defect else []


def check_instant(value: datetime, field: str, now: datetime) -> list[FieldError]:
    """The refusal of an instant (`--at`, `aware_at`…): no offset, before 2000, or after `now`."""
    defect = instant_defect(value, now)
    return [FieldError(field, defect)] if defect else []


@dataclass(frozen=True)
class Text:
    """Pydantic metadata for a bounded text: `Annotated[str, Text(MAX_TITLE)]`.

    A text only (no number turned into one), within its length, free of control characters: tabs and line breaks
    are allowed in multiline text only. Applies before the annotated type's own validation (e.g. EmailStr).
    """

    max_len: int
    multiline: bool = False
    min_len: int = 1

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        bounded = core_schema.no_info_after_validator_function(
            self._check, core_schema.str_schema(strict=True, min_length=self.min_len, max_length=self.max_len))
        return core_schema.chain_schema([bounded, handler(source)])

    def _check(self, value: str) -> str:
        defect = text_defect(value, self.max_len, self.multiline, self.min_len)
        if defect:
            raise PydanticCustomError(REFUSED, defect)
        return value


def _written_instant(value: Any) -> Any:
    # Pydantic would read a number as seconds (or milliseconds) since 1970: a user never means that.
    if not isinstance(value, str | datetime):
        raise PydanticCustomError(REFUSED, ISO_INSTANT)
    return value


Title = Annotated[str, Text(MAX_TITLE)]
Name = Annotated[str, Text(MAX_NAME)]
Email = Annotated[EmailStr, Text(MAX_EMAIL)]
Code = Annotated[str, Text(MAX_CODE)]
ShortText = Annotated[str, Text(MAX_SHORT_TEXT, multiline=True)]
LongText = Annotated[str, Text(MAX_LONG_TEXT, multiline=True)]
Description = Annotated[str, Text(MAX_DESCRIPTION, multiline=True)]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
Instant = Annotated[datetime, BeforeValidator(_written_instant)]  # then check_instant, which knows `now`
