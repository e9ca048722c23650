"""The follow-up and closure documents a handling party files."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.validation import validate_document


class FollowUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: str = Field(min_length=1, description="ce qui a été fait depuis le dernier point")
    planned: str = Field(min_length=1, description="ce qui est prévu")
    impact: str = Field(min_length=1, description="l'impact actuel")


class Closure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=1)
    measures: str = Field(min_length=1)
    root_cause: str | None = None
    residual_risk: str | None = None


def parse_follow_up(raw: Any) -> dict[str, Any]:
    return validate_document(FollowUp, raw, "le point de suivi").model_dump()


def parse_closure(raw: Any) -> dict[str, Any]:
    return validate_document(Closure, raw, "le rapport de clôture").model_dump(exclude_none=True)
