"""The assessment document the DPD files (ENISA factors and the Art. 33(3) free text)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.bounds import MAX_ITEMS, LongText, ShortText
from models.validation import validate_document
from policy.severity import DpcAdjustment, Factors


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
