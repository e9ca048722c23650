"""The declaration a party files, validated against the convention's vocabulary and the parties' file."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

import pendulum
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from models.bounds import MAX_ITEMS, REFUSED, Code, Count, Description, Email, Instant, Name, Title, instant_defect
from models.validation import validate_document
from policy.scope import CATEGORIES, CATEGORY_RULES
from settings.parties import Municipality, Parties

INSEE_PATTERN = re.compile(r"^(\d{5}|2[AB]\d{3})$")


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    email: Email


class DataSubjects(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pupils: Count | None = None
    staff: Count | None = None
    parents: Count | None = None


LISTED = 20  # configured communes or schools named in a refusal; the rest are counted


def capped(items: list[str], limit: int = LISTED) -> str:
    """« a, b, c » or, past `limit`, « a, b, … et 12 autres »."""
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} et {len(items) - limit} autres"


def communes_text(parties: Parties) -> str:
    return capped([f"{m.name} ({m.insee})" for m in parties.municipalities])


def schools_text(municipality: Municipality) -> str:
    if not municipality.schools:
        return "aucune école n'est configurée pour cette commune"
    return f"écoles configurées : {capped([f'{s.name} ({s.uai})' for s in municipality.schools])}"


def _refused(message: str) -> PydanticCustomError:
    return PydanticCustomError(REFUSED, "{message}", {"message": message})  # a user's text is never a template


def _checks(info: ValidationInfo) -> tuple[Parties, pendulum.DateTime] | None:
    """The parties' file and the instant to check against, when the caller gave them (`parse_declaration` does)."""
    context = info.context if isinstance(info.context, dict) else {}
    parties, now = context.get("parties"), context.get("now")
    return (parties, now) if parties is not None and now is not None else None


def _known_category(value: str) -> str:
    if value not in CATEGORIES:
        choices = " ; ".join(f"{rule.category} : {rule.label}" for rule in CATEGORY_RULES)
        raise _refused(f"catégorie inconnue « {value} » (catégories possibles : {choices})")
    return value


def _school_of_the_commune(value: str, info: ValidationInfo) -> str:
    checks, insee = _checks(info), info.data.get("municipality")
    municipality = checks[0].municipality(insee) if checks and insee else None
    if municipality is not None and value not in {school.uai for school in municipality.schools}:
        raise _refused(f"l'école « {value} » n'appartient pas à la commune {municipality.name} ({municipality.insee}) "
                       f"; {schools_text(municipality)}")
    return value


class Declaration(BaseModel):
    """Every field is checked in one pass, against the parties' file too: a refusal names every mistake at once."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description
    declared_by: Literal["academy", "municipality"]
    municipality: Code
    reporter: Reporter
    aware_at: Instant
    occurred_at: Instant | None = None
    categories: list[Annotated[Code, AfterValidator(_known_category)]] = Field(min_length=1, max_length=MAX_ITEMS)
    personal_data: Literal["yes", "no", "unknown"]
    schools: list[Annotated[Code, AfterValidator(_school_of_the_commune)]] = Field(default=[], max_length=MAX_ITEMS)
    data_subjects: DataSubjects = DataSubjects()
    records: Count | None = None

    @field_validator("municipality", mode="before")
    @classmethod
    def _insee_as_text(cls, value: Any) -> Any:
        # YAML reads 54395 as a number; accept it when it is still a full code.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("municipality")
    @classmethod
    def _configured_commune(cls, value: str, info: ValidationInfo) -> str:
        checks = _checks(info)
        if checks and checks[0].municipality(value) is None:
            hint = " (code INSEE à 5 caractères, à écrire entre guillemets)" if not INSEE_PATTERN.match(value) else ""
            raise _refused(f"commune inconnue « {value} »{hint} ; communes configurées : {communes_text(checks[0])}")
        return value

    @field_validator("aware_at", "occurred_at")
    @classmethod
    def _plausible_instant(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        checks = _checks(info)
        if value is None or checks is None:
            return value
        defect = instant_defect(value, checks[1])
        if defect:
            raise _refused(defect)
        aware_at = info.data.get("aware_at")
        if info.field_name == "occurred_at" and aware_at is not None and value > aware_at:
            raise _refused("l'incident ne peut pas avoir eu lieu après sa prise de connaissance (aware_at)")
        return value

    @field_validator("personal_data", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted yes/no as a boolean.
        return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value


def parse_declaration(raw: Any, parties: Parties, now: pendulum.DateTime) -> Declaration:
    """Validate a declaration as read from YAML or JSON; raise InvalidInput naming every bad field, all at once."""
    return validate_document(Declaration, raw, "la déclaration", context={"parties": parties, "now": now})
