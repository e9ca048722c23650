"""The documents the DPD files: the assessment (ENISA factors, the Art. 33(3) free text and the categories of data
concerned) and, with the decision, the plain-language letter to the people concerned (Art. 34(2))."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.bounds import MAX_ITEMS, LongText, ShortText
from models.errors import FieldError, InvalidInput
from models.validation import FloatNotBool, IntNotBool, validate_document
from policy.severity import DpcAdjustment, Factors

# The codes of policy.severity.DATA_CATEGORY_LABELS (a test keeps them the same).
DataCategory = Literal["identification", "contact", "credentials", "school_life", "messages", "health",
                       "social_financial", "bank_details", "social_security_number", "identity_documents",
                       "professional", "images", "connection_logs", "location"]
HOURS_BOUND = 24 * 366 * 10  # ten years: beyond, a typing slip


class Adjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: Literal[1, -1]
    reason: ShortText


class AssessmentDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data_types: list[Literal["simple", "behavioural", "financial", "sensitive"]] = Field(min_length=1,
                                                                                        max_length=MAX_ITEMS)
    dpc_adjustments: list[Adjustment] = Field(default=[], max_length=MAX_ITEMS)
    vulnerable_subjects: bool | None = None
    ease_of_identification: Literal["negligible", "limited", "significant", "maximum"]
    confidentiality: Literal["none", "limited", "wide"] = "none"
    integrity: Literal["none", "recoverable", "unrecoverable"] = "none"
    availability: Literal["none", "temporary", "permanent"] = "none"
    malicious: bool = False
    unintelligible: bool = False
    # What the CNIL's form asks (Art. 33(3)(a)); empty in an older file: the draft then says « à compléter ».
    data_categories: list[DataCategory] = Field(default=[], max_length=MAX_ITEMS)
    # What the EDPB's criteria weigh (policy/breach_criteria.py); left out in an older file: not known, which never
    # lowers the recommendation. YAML's `true` is not 1 person.
    people_concerned: IntNotBool | None = Field(default=None, ge=0, le=1_000_000_000)
    data_fate: Literal["exposed", "exfiltrated", "published"] | None = None
    trusted_recipient: bool = False
    data_retrieved: bool = False
    malicious_insider: bool = False
    unavailable_hours: FloatNotBool | None = Field(default=None, ge=0, le=HOURS_BOUND, allow_inf_nan=False)
    tolerable_hours: FloatNotBool | None = Field(default=None, ge=0, le=HOURS_BOUND, allow_inf_nan=False)
    backup_restored: bool | None = None
    critical_service: bool = False
    nature: LongText
    consequences: LongText
    measures: LongText

    @field_validator("confidentiality", "integrity", "availability", mode="before")
    @classmethod
    def _yaml_no(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted `none`-like `no` as False; accept it as "none".
        return "none" if value is False else value

    def factors(self, pupils_involved: bool) -> Factors:
        vulnerable = pupils_involved if self.vulnerable_subjects is None else self.vulnerable_subjects
        return Factors(
            data_types=tuple(self.data_types), ease_of_identification=self.ease_of_identification,
            confidentiality=self.confidentiality, integrity=self.integrity, availability=self.availability,
            malicious=self.malicious, unintelligible=self.unintelligible, vulnerable_subjects=vulnerable,
            dpc_adjustments=tuple(DpcAdjustment(a.step, a.reason) for a in self.dpc_adjustments),
            data_categories=tuple(self.data_categories), people_concerned=self.people_concerned,
            data_fate=self.data_fate, trusted_recipient=self.trusted_recipient, data_retrieved=self.data_retrieved,
            malicious_insider=self.malicious_insider, unavailable_hours=self.unavailable_hours,
            tolerable_hours=self.tolerable_hours, backup_restored=self.backup_restored,
            critical_service=self.critical_service,
        )


def parse_assessment(raw: Any) -> AssessmentDocument:
    """The assessment, or InvalidInput naming each bad field, and each fact that contradicts another: a contradiction
    left to the rules would silently leave a criterion out (a fate with no loss of confidentiality...)."""
    document = validate_document(AssessmentDocument, raw, "l'évaluation")
    errors = []
    if document.confidentiality == "none":
        errors += [FieldError(name, "sans objet quand la confidentialité n'est pas atteinte (confidentiality: none) : "
                                    "indiquez la perte de confidentialité ou retirez ce champ")
                   for name in ("data_fate", "trusted_recipient", "data_retrieved") if getattr(document, name)
                   not in (None, False)]
    if document.availability == "none":
        errors += [FieldError(name, "sans objet quand la disponibilité n'est pas atteinte (availability: none) : "
                                    "indiquez la perte de disponibilité ou retirez ce champ")
                   for name in ("unavailable_hours", "tolerable_hours", "backup_restored", "critical_service")
                   if getattr(document, name) not in (None, False)]
    if document.availability == "permanent" and document.backup_restored:
        errors.append(FieldError("backup_restored", "contredit une perte définitive (availability: permanent)"))
    if errors:
        raise InvalidInput(errors)
    return document


class LetterDocument(BaseModel):
    """The letter to the people concerned, in words for parents (never the assessment's technical notes). Each
    part left out shows in the draft as « à compléter »."""

    model_config = ConfigDict(extra="forbid")
    what_happened: LongText | None = None  # « Ce qui s'est passé »
    what_it_means: LongText | None = None  # « Ce que cela signifie pour vous »
    what_to_do: LongText | None = None  # « Ce que nous vous conseillons de faire »
    contact: ShortText | None = None  # whom to contact, beyond the DPD
    channel: ShortText | None = None  # how the letter will reach them (the CNIL's form asks it)

    def stored(self) -> dict[str, str]:
        """The parts given, trimmed; what the decision keeps."""
        return {key: value.strip() for key, value in self.model_dump().items() if value and value.strip()}


def parse_letter(raw: Any) -> LetterDocument:
    return validate_document(LetterDocument, raw, "la lettre aux personnes concernées")
