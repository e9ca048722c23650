"""Forms as people fill them, turned into the documents the CLI reads, so that the same validation (and the same
French message per field) applies; instants are typed in Paris time."""

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

import pendulum
from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData, UploadFile

from models.declaration import Declaration, parse_declaration
from models.errors import FieldError, InvalidInput
from settings.env import max_attachment_bytes
from settings.parties import Parties

PARIS = "Europe/Paris"
FORM_OVERHEAD_BYTES = 512 * 1024  # the form's text fields beside an attached file


def body_limit() -> int:
    return max_attachment_bytes() + FORM_OVERHEAD_BYTES


async def read_form(request: Request) -> FormData:
    """The posted form, refused whole beyond the largest attachment (no half-read upload; `GuardedRequests` cuts a body
    that does not say its length)."""
    declared = request.headers.get("content-length")
    limit = body_limit()
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail="Envoi trop volumineux.")
    return await request.form(max_files=1, max_fields=200)


PostedForm = Annotated[FormData, Depends(read_form)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def paris_instant(form: FormData, name: str, label: str, required: bool = True) -> pendulum.DateTime | None:
    """A `datetime-local` field (Paris wall time, no offset) as an aware instant; the daylight-saving gap and the
    repeated hour are read as Paris reads them."""
    value = text(form, name)
    if not value:
        if required:
            raise InvalidInput([FieldError(name, f"indiquez {label}")])
        return None
    # What a datetime-local field sends (2026-11-28T09:30), or the day first as French writes it (28/11/2026 09:30);
    # nothing else is guessed: a month-first reading would move a legal deadline.
    found = WRITTEN_INSTANT.fullmatch(value) or FRENCH_INSTANT.fullmatch(value)
    try:
        if found is None:
            raise ValueError
        parts = {key: int(number or 0) for key, number in found.groupdict().items()}
        instant = pendulum.datetime(parts["year"], parts["month"], parts["day"], parts["hour"], parts["minute"],
                                    parts["second"], tz=PARIS)
    except ValueError:
        raise InvalidInput([FieldError(name, "date et heure illisibles : jj/mm/aaaa hh:mm, heure de Paris")]) \
            from None
    if (instant.hour, instant.minute) != (parts["hour"], parts["minute"]):
        raise InvalidInput([FieldError(name, "cette heure n'existe pas à Paris ce jour-là (passage à l'heure d'été)")])
    return instant


WRITTEN_INSTANT = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
                             r"(?::(?P<second>\d{2})(?:\.\d{1,6})?)?", re.ASCII)
FRENCH_INSTANT = re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4}) "
                            r"(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2}))?", re.ASCII)


def required_instant(form: FormData, name: str, label: str) -> pendulum.DateTime:
    instant = paris_instant(form, name, label)
    assert instant is not None  # paris_instant refuses a missing required instant
    return instant


def count(form: FormData, name: str) -> int | str | None:
    """A number of people: an integer, or the text as typed so that validation names the field."""
    value = text(form, name)
    if not value:
        return None
    return int(value) if re.fullmatch(r"-?[0-9]{1,9}", value) else value


def parse_declaration_form(form: FormData, declared_by: str, reporter: dict[str, str], parties: Parties,
                           now: pendulum.DateTime) -> Declaration:
    """The declaration as the CLI would read it; every field's refusal at once, the instants' in Paris words."""
    errors: list[FieldError] = []
    try:
        document = declaration_document(form, declared_by, reporter)
    except InvalidInput as error:
        errors, document = error.errors, declaration_document(form, declared_by, reporter, lenient=True)
    try:
        declaration = parse_declaration(document, parties, now)
    except InvalidInput as error:
        named = {item.field for item in errors}
        raise InvalidInput(errors + [item for item in error.errors if item.field not in named]) from None
    if errors:
        raise InvalidInput(errors)
    return declaration


def declaration_document(form: FormData, declared_by: str, reporter: dict[str, str],
                         lenient: bool = False) -> dict[str, Any]:
    errors: list[FieldError] = []
    aware_at = occurred_at = None
    try:
        aware_at = paris_instant(form, "aware_at", "l'instant de la prise de connaissance")
    except InvalidInput as error:
        errors += error.errors
    try:
        occurred_at = paris_instant(form, "occurred_at", "l'instant de l'incident", required=False)
    except InvalidInput as error:
        errors += error.errors
    if errors and not lenient:
        raise InvalidInput(errors)
    subjects = {key: count(form, key) for key in ("pupils", "staff", "parents")}
    document: dict[str, Any] = {
        "title": text(form, "title"),
        "description": text(form, "description"),
        "declared_by": declared_by,
        "municipality": text(form, "municipality"),
        "reporter": reporter,
        "aware_at": aware_at.isoformat() if aware_at else None,
        "categories": form.getlist("categories"),
        "personal_data": text(form, "personal_data") or "unknown",
        "schools": form.getlist("schools"),
        "data_subjects": {key: value for key, value in subjects.items() if value is not None},
    }
    if occurred_at is not None:
        document["occurred_at"] = occurred_at.isoformat()
    records = count(form, "records")
    if records is not None:
        document["records"] = records
    return document


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


# What may be attached: documents, images, logs and archives an incident usually gathers; never HTML or scripts,
# which a browser would run. The first bytes must agree with the extension.
ALLOWED_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".txt": ("text/plain", ()),
    ".log": ("text/plain", ()),
    ".csv": ("text/csv", ()),
    ".eml": ("message/rfc822", ()),
    ".zip": ("application/zip", (b"PK\x03\x04",)),
    ".odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", (b"PK\x03\x04",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
}


def read_upload(form: FormData, name: str = "file") -> Upload:
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput([FieldError(name, "choisissez un fichier")])
    filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    if any(unicodedata.category(character) in ("Cf", "Cc") for character in filename):
        raise InvalidInput([FieldError(name, "nom de fichier refusé : il contient un caractère invisible ou de "
                                             "contrôle (il pourrait se lire avec une autre extension)")])
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in ALLOWED_TYPES:
        raise InvalidInput([FieldError(name, "type de fichier non accepté (acceptés : "
                                             + ", ".join(sorted(ALLOWED_TYPES)) + ")")])
    limit = max_attachment_bytes()
    content = upload.file.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput([FieldError(name, f"fichier trop volumineux ({limit // (1024 * 1024)} Mo au plus)")])
    if not content:
        raise InvalidInput([FieldError(name, "le fichier est vide")])
    content_type, signatures = ALLOWED_TYPES[extension]
    if signatures and not content.startswith(signatures):
        raise InvalidInput([FieldError(name, f"le contenu du fichier ne correspond pas à son extension {extension}")])
    if not signatures and b"\x00" in content[:4096]:
        raise InvalidInput([FieldError(name, f"un fichier {extension} doit être du texte")])
    return Upload(filename, content_type, content)


def field_errors(error: InvalidInput) -> dict[str, str]:
    """Each refusal beside its field: `categories[1]` and `data_subjects.pupils` under the form's own names."""
    shown: dict[str, str] = {}
    for item in error.errors:
        field = item.field.lstrip("-").replace("-", "_")  # the CLI's option names: --filed-at is filed_at here
        name = field.split("[")[0].split(".")[-1] if field.startswith("data_subjects") \
            else field.split("[")[0].split(".")[0]
        shown.setdefault(name, item.message)
    return shown
