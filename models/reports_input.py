"""The follow-up and closure documents a handling party files."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.bounds import LongText
from models.validation import validate_document


class FollowUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: LongText = Field(description="ce qui a été fait depuis le dernier point")
    planned: LongText = Field(description="ce qui est prévu")
    impact: LongText = Field(description="l'impact actuel")


class Closure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: LongText
    measures: LongText
    root_cause: LongText | None = None
    residual_risk: LongText | None = None


def parse_follow_up(raw: Any) -> dict[str, Any]:
    return validate_document(FollowUp, raw, "le point de suivi").model_dump()


def parse_closure(raw: Any) -> dict[str, Any]:
    return validate_document(Closure, raw, "le rapport de clôture").model_dump(exclude_none=True)
