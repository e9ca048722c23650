"""The declaration a party files, validated against the convention's vocabulary and the parties' file."""

import re
from typing import Any, Literal

import pendulum
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.bounds import MAX_ITEMS, Code, Count, Description, Email, Instant, Name, Title, check_instant
from models.errors import FieldError, InvalidInput
from models.validation import validate_document
from policy.scope import CATEGORIES
from settings.parties import Parties

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


class Declaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description
    declared_by: Literal["academy", "municipality"]
    municipality: Code
    reporter: Reporter
    aware_at: Instant
    occurred_at: Instant | None = None
    categories: list[Code] = Field(min_length=1, max_length=MAX_ITEMS)
    personal_data: Literal["yes", "no", "unknown"]
    schools: list[Code] = Field(default=[], max_length=MAX_ITEMS)
    data_subjects: DataSubjects = DataSubjects()
    records: Count | None = None

    @field_validator("municipality", mode="before")
    @classmethod
    def _insee_as_text(cls, value: Any) -> Any:
        # YAML reads 54395 as a number; accept it when it is still a full code.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("personal_data", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted yes/no as a boolean.
        return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value


def parse_declaration(raw: Any, parties: Parties, now: pendulum.DateTime) -> Declaration:
    """Validate a declaration as read from YAML or JSON; raise InvalidInput naming every bad field."""
    declaration = validate_document(Declaration, raw, "la déclaration")
    errors = _check_against_parties(declaration, parties, now)
    if errors:
        raise InvalidInput(errors)
    return declaration


def _check_against_parties(declaration: Declaration, parties: Parties, now: pendulum.DateTime) -> list[FieldError]:
    errors = check_instant(declaration.aware_at, "aware_at", now)
    if declaration.occurred_at is not None:
        occurred_errors = check_instant(declaration.occurred_at, "occurred_at", now)
        if not occurred_errors and not errors and declaration.occurred_at > declaration.aware_at:
            occurred_errors = [FieldError("occurred_at", "l'incident ne peut pas avoir eu lieu après sa prise de "
                                                         "connaissance (aware_at)")]
        errors += occurred_errors
    for index, category in enumerate(declaration.categories):
        if category not in CATEGORIES:
            errors.append(FieldError(f"categories[{index}]", f"catégorie inconnue « {category} » "
                                     f"(catégories possibles : {', '.join(CATEGORIES)})"))
    municipality = parties.municipality(declaration.municipality)
    if municipality is None:
        hint = " (code INSEE à 5 caractères, à écrire entre guillemets)" \
            if not INSEE_PATTERN.match(declaration.municipality) else ""
        errors.append(FieldError("municipality", f"commune inconnue « {declaration.municipality} »{hint} : "
                                 "elle doit figurer dans le fichier de configuration des parties"))
    else:
        own_schools = {school.uai for school in municipality.schools}
        for index, uai in enumerate(declaration.schools):
            if uai not in own_schools:
                errors.append(FieldError(f"schools[{index}]", f"l'école « {uai} » n'appartient pas à la commune "
                                         f"{municipality.name} ({municipality.insee})"))
    return errors
