"""A personal-data breach's record: assessments (ENISA), the DPD's decision, CNIL filings, data subjects informed."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class Assessment(SQLModel, table=True):
    __tablename__ = "breach_assessment"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    assessed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    assessed_by: str = Field(max_length=320)
    factors: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dpc: int
    ei: float
    cb: float
    se: float
    level: str = Field(max_length=16)
    recommendation: str = Field(max_length=32)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What decided the recommendation (policy.recommendation.Advice.stored); empty for assessments made before the
    # EDPB's criteria were weighed.
    basis: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    data_categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    nature: str = ""
    consequences: str = ""
    measures: str = ""


class Decision(SQLModel, table=True):
    __tablename__ = "breach_decision"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", unique=True)
    assessment_id: int = Field(foreign_key="breach_assessment.id")
    decided_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    decided_by: str = Field(max_length=320)
    notify_cnil: bool
    subjects: str = Field(max_length=8)  # yes, no, exempt
    exemption: str | None = Field(default=None, max_length=16)
    rationale: str | None = None
    recommendation: str = Field(max_length=32)
    against_recommendation: bool
    delay_reasons: str | None = None
    # The letter to the people concerned, in the DPD's plain words (models.breach_input.LetterDocument).
    letter: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CnilFiling(SQLModel, table=True):
    __tablename__ = "cnil_filing"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    filed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reference: str = Field(max_length=100)
    complementary: bool = False
    recorded_by: str = Field(max_length=320)


class SubjectsNotice(SQLModel, table=True):
    __tablename__ = "subjects_notice"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    informed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    channel: str = Field(max_length=300)
    recorded_by: str = Field(max_length=320)
