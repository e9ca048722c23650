"""The parties' configuration: the académie, its municipalities and their schools (one YAML file)."""

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from models.bounds import REFUSED
from models.errors import cause
from models.validation import FloatNotBool, IntNotBool, field_path, french_message
from policy.parties import Party
from policy.retry import RetryPolicy
from policy.steps import StepPolicy
from policy.transitions import Role
from rendering.formats import decimal
from settings.env import parties_file


class Contact(BaseModel):
    """Someone the engine writes to; also a person who may act, with roles (else the default of their list)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    roles: list[Role] | None = None


@dataclass(frozen=True)
class Person:
    """Someone known to the parties' file who may act or read: a party (one commune, by INSEE code) and roles."""

    email: str
    name: str
    party: Party
    insee: str | None  # the commune, for a commune's people
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles

    def belongs_to(self, party: Party, insee: str | None) -> bool:
        return self.party is party and (party is Party.ACADEMY or self.insee == insee)


class Signatory(BaseModel):
    """Who signs the letters to the people concerned on the académie's behalf (e.g. the recteur or the DASEN)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)


class Academy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    mail_from: EmailStr
    signatory: Signatory | None = None  # unset: the letters leave the signature « à compléter »
    alert_contacts: list[Contact] = Field(min_length=1)
    dpd_contacts: list[Contact] = Field(min_length=1)
    escalation_contacts: list[Contact] = Field(min_length=1)
    steering_contacts: list[Contact] = []  # the comité de pilotage (Art. 4): monthly report
    people: list[Contact] = []  # who acts or reads without receiving mail (auditors, administrators…)

    def roster(self) -> list[tuple[Contact, Role]]:
        """Each contact with the role its list gives by default (a contact's own `roles` replace it)."""
        return [(c, Role.TRIAGER) for c in self.alert_contacts + self.escalation_contacts] \
            + [(c, Role.DPD) for c in self.dpd_contacts] + [(c, Role.STEERING) for c in self.steering_contacts] \
            + [(c, Role.AUDITOR) for c in self.people]


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
    people: list[Contact] = []  # e.g. the commune's DPD

    def roster(self) -> list[tuple[Contact, Role]]:
        return [(c, Role.REFERENT) for c in self.referent_contacts + self.escalation_contacts] \
            + [(c, Role.REFERENT) for c in self.people]


DAY_SECONDS = 86_400


class Engine(BaseModel):
    """The watchdog's and the outbox's tunables; the defaults follow DESIGN.md. YAML's `true` where a number
    belongs is a slip to name, not a 1 to guess."""

    model_config = ConfigDict(extra="forbid")
    # Each bounded to what a clock of hours or days can mean: beyond, a typing slip that would fail every pass.
    reminder_fractions: list[Annotated[FloatNotBool, Field(gt=0, lt=1, allow_inf_nan=False)]] = Field(
        default=[0.5, 0.75], max_length=10)
    escalation_fraction: FloatNotBool = Field(default=0.9, gt=0, lt=1, allow_inf_nan=False)
    follow_up_days: IntNotBool = Field(default=7, ge=1, le=366)
    retry_base_seconds: IntNotBool = Field(default=60, ge=1, le=DAY_SECONDS)
    retry_cap_seconds: IntNotBool = Field(default=3600, ge=1, le=7 * DAY_SECONDS)
    escalate_after_attempts: IntNotBool = Field(default=5, ge=1, le=1000)
    acknowledgement_reminder_hours: IntNotBool = Field(default=24, ge=1, le=24 * 366)  # after the alert's delivery
    # Beyond this a relay may refuse a message at the end of its transfer; refused here first, and escalated.
    max_message_kilobytes: IntNotBool = Field(default=10240, ge=1, le=1024 * 1024)

    @model_validator(mode="after")
    def _reminders_before_escalation(self) -> "Engine":
        late = [fraction for fraction in self.reminder_fractions if fraction >= self.escalation_fraction]
        if late:  # a reminder after the escalation would tell the owner what their superiors already know
            raise PydanticCustomError(REFUSED, "{message}", {"message": (
                f"les rappels (reminder_fractions) viennent avant l'escalade (escalation_fraction : "
                f"{decimal(self.escalation_fraction)}) ; {', '.join(decimal(fraction) for fraction in late)} "
                f"{'ne le fait pas' if len(late) == 1 else 'ne le font pas'}")})
        return self

    @property
    def step_policy(self) -> StepPolicy:
        return StepPolicy(tuple(self.reminder_fractions), self.escalation_fraction)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.retry_base_seconds, self.retry_cap_seconds, self.escalate_after_attempts)


class Breach(BaseModel):
    """Personal-data breaches (GDPR Art. 33 and 34; convention Art. 4.2)."""

    model_config = ConfigDict(extra="forbid")
    cnil_owner: Party = Party.ACADEMY
    # "selon le module concerné" (Art. 4.2): a category may hand the CNIL notification to the other party.
    cnil_owner_by_category: dict[str, Party] = {}
    minors_uplift: IntNotBool = Field(default=1, ge=0, le=3)
    # From how many people concerned a breach counts as "large scale" (policy/breach_criteria.py, RG-CRIT-01).
    large_scale_from: IntNotBool = Field(default=10_000, ge=1, le=1_000_000_000)
    subjects_communication_hours: IntNotBool = Field(default=72, ge=1, le=24 * 366)
    decision_margin_hours: IntNotBool = Field(default=6, ge=0, le=72)

    def cnil_owner_for(self, categories: list[str]) -> Party:
        owners = [self.cnil_owner_by_category[c] for c in categories if c in self.cnil_owner_by_category]
        return owners[0] if owners else self.cnil_owner


class Parties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    academy: Academy
    municipalities: list[Municipality] = Field(min_length=1)
    engine: Engine = Engine()
    breach: Breach = Breach()

    @model_validator(mode="after")
    def _one_entry_per_commune(self) -> "Parties":
        codes = [m.insee for m in self.municipalities]
        if len(codes) != len(set(codes)):
            raise ValueError("une commune (code INSEE) figure deux fois")
        return self

    @cached_property
    def people(self) -> dict[str, Person]:
        """Everyone who may act or read, by lower-cased e-mail; roles merge across a party's lists."""
        found: dict[str, Person] = {}
        rosters = [(Party.ACADEMY, None, self.academy.roster())] + \
            [(Party.MUNICIPALITY, m.insee, m.roster()) for m in self.municipalities]
        for party, insee, roster in rosters:
            for contact, default in roster:
                email = str(contact.email).lower()
                roles = frozenset(contact.roles if contact.roles is not None else [default])
                misplaced = roles & (PARTY_ONLY_ROLES[party.other])
                if misplaced:
                    raise PartiesConfigError(f"Fichier de configuration des parties : la personne {email} ne peut "
                                             f"avoir le rôle « {next(iter(misplaced)).value} » pour "
                                             f"{party.label} (référent : une commune ; triager : l'académie).")
                known = found.get(email)
                if known is not None and (known.party, known.insee) != (party, insee):
                    raise PartiesConfigError(f"Fichier de configuration des parties : la personne {email} est "
                                             "déclarée pour deux parties ; une personne n'agit que pour une partie.")
                found[email] = Person(email, contact.name, party, insee,
                                      roles | (known.roles if known else frozenset()))
        return found

    def person(self, email: str) -> Person | None:
        return self.people.get(email.strip().lower())

    def municipality(self, insee: str) -> Municipality | None:
        return next((m for m in self.municipalities if m.insee == insee), None)

    def operational_contacts(self, party: Party, insee: str) -> list[Contact]:
        """Who acts for a party day to day: the académie's alert contacts, the commune's ENT referents."""
        if party is Party.ACADEMY:
            return list(self.academy.alert_contacts)
        return list(self._commune(insee).referent_contacts)

    def dpd_contacts(self, party: Party, insee: str) -> list[Contact]:
        """The académie's DPD contacts; a commune's people with the DPD role (else its referents)."""
        if party is Party.ACADEMY:
            return list(self.academy.dpd_contacts)
        commune = self._commune(insee)
        dpds = [c for c, default in commune.roster() if Role.DPD in (c.roles or [default])]
        return dpds or list(commune.referent_contacts)

    def escalation_contacts(self, party: Party, insee: str) -> list[Contact]:
        if party is Party.ACADEMY:
            return list(self.academy.escalation_contacts)
        return list(self._commune(insee).escalation_contacts)

    def _commune(self, insee: str) -> Municipality:
        municipality = self.municipality(insee)
        if municipality is None:
            raise PartiesConfigError(f"La commune {insee} ne figure pas dans le fichier de configuration des parties.")
        return municipality


# A commune's referent acts for a commune; a triager is académie security staff.
PARTY_ONLY_ROLES = {Party.MUNICIPALITY: frozenset({Role.REFERENT}), Party.ACADEMY: frozenset({Role.TRIAGER})}


class PartiesConfigError(Exception):
    """The parties' file is missing or malformed: the engine cannot know whom to alert."""


def load_parties(path: Path | None = None) -> Parties:
    return _load(path or parties_file())


@lru_cache(maxsize=8)
def _load(path: Path) -> Parties:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PartiesConfigError(f"Fichier de configuration des parties illisible : {path} ({cause(error)}).") \
            from error
    except yaml.YAMLError as error:
        raise PartiesConfigError(f"Fichier de configuration des parties invalide : {path} ({error}).") from error
    try:
        parties = Parties.model_validate(raw)
        parties.people  # noqa: B018 - a person declared for two parties is refused at load, not mid-command
        return parties
    except ValidationError as error:
        first = error.errors()[0]
        if not first["loc"]:  # the file as a whole: our own check, already in French
            raise PartiesConfigError(f"Fichier de configuration des parties {path} : "
                                     f"{first.get('ctx', {}).get('error', 'contenu non valide')}.") from error
        raise PartiesConfigError(f"Fichier de configuration des parties {path} : champ « {field_path(first['loc'])} » "
                                 f"invalide : {french_message(first)}.") from error
