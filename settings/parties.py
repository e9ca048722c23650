"""The parties' configuration: the académie, its municipalities and their schools (one YAML file)."""

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from settings.env import parties_file


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    email: EmailStr


class Academy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    mail_from: EmailStr
    alert_contacts: list[Contact] = Field(min_length=1)
    dpd_contacts: list[Contact] = Field(min_length=1)
    escalation_contacts: list[Contact] = Field(min_length=1)


class School(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uai: str = Field(pattern=r"^\d{7}[A-Z]$")
    name: str


class Municipality(BaseModel):
    model_config = ConfigDict(extra="forbid")
    insee: str = Field(pattern=r"^(\d{5}|2[AB]\d{3})$")
    name: str
    referent_contacts: list[Contact] = Field(min_length=1)
    escalation_contacts: list[Contact] = Field(min_length=1)
    schools: list[School] = []


class Parties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    academy: Academy
    municipalities: list[Municipality] = Field(min_length=1)

    def municipality(self, insee: str) -> Municipality | None:
        return next((m for m in self.municipalities if m.insee == insee), None)


class PartiesConfigError(Exception):
    """The parties' file is missing or malformed: the engine cannot know whom to alert."""


def load_parties(path: Path | None = None) -> Parties:
    return _load(path or parties_file())


@lru_cache(maxsize=8)
def _load(path: Path) -> Parties:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PartiesConfigError(f"Fichier de configuration des parties illisible : {path} ({error.strerror}).") \
            from error
    except yaml.YAMLError as error:
        raise PartiesConfigError(f"Fichier de configuration des parties invalide : {path} ({error}).") from error
    try:
        return Parties.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise PartiesConfigError(
            f"Fichier de configuration des parties {path} : champ « {field} » invalide ({first['msg']})."
        ) from error
