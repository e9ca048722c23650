"""The documents the DPD files: the assessment (ENISA factors, the Art. 33(3) free text and the categories of data
concerned) and, with the decision, the plain-language letter to the people concerned (Art. 34(2))."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.bounds import MAX_ITEMS, LongText, ShortText
from models.validation import validate_document
from policy.severity import DpcAdjustment, Factors

# The codes of policy.severity.DATA_CATEGORY_LABELS (a test keeps them the same).
DataCategory = Literal["identification", "contact", "credentials", "school_life", "messages", "health",
                       "social_financial", "identity_documents", "images", "connection_logs", "location"]


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
        )


def parse_assessment(raw: Any) -> AssessmentDocument:
    return validate_document(AssessmentDocument, raw, "l'évaluation")


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
