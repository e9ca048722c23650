"""The eighteen published examples of the EDPB's Guidelines 01/2021 (v2.0), each with its facts entered as a DPD
fills an assessment (policy/edpb_examples.yaml) and the EDPB's own conclusion: the recommendation names the one
closest to the facts at hand, and the tests measure how often the engine agrees with the EDPB."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from policy.breach_criteria import Answer, Facts
from policy.severity import DpcAdjustment, Factors

EXAMPLES_FILE = Path(__file__).with_name("edpb_examples.yaml")
GUIDELINES = "lignes directrices 01/2021 du CEPD"


@dataclass(frozen=True)
class Example:
    number: int
    title: str  # our French translation of the guidelines' title (no French text was at hand)
    conclusion: Answer  # the EDPB's: register only, notify the supervisory authority, or also inform the people
    factors: Factors
    source: str

    def citation(self) -> str:
        return f"cas n° {self.number} des {GUIDELINES}, « {self.title} »"

    def conclusion_text(self) -> str:
        return {Answer.REGISTER_ONLY: "documentation interne seulement, sans notification",
                Answer.NOTIFY_CNIL: "notifier l'autorité de contrôle, sans informer les personnes",
                Answer.INFORM_PEOPLE: "notifier l'autorité de contrôle et informer les personnes"}[self.conclusion]


def factors_of(document: dict[str, Any]) -> Factors:
    """An assessment file's fields as the rules read them (models.breach_input validates the file first)."""
    fields = {key: value for key, value in document.items() if key in Factors.__dataclass_fields__}
    for key in ("data_types", "data_categories"):
        fields[key] = tuple(fields.get(key, ()))
    fields["dpc_adjustments"] = tuple(DpcAdjustment(a["step"], a["reason"]) for a in fields.get("dpc_adjustments", ()))
    return Factors(**fields)


@cache
def examples() -> tuple[Example, ...]:
    raw = yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8"))
    return tuple(Example(case["case"], case["title"], _conclusion(case["edpb"]), factors_of(case["assessment"]),
                         case["source"]) for case in raw["cases"])


def _conclusion(edpb: dict[str, bool]) -> Answer:
    if edpb["people"]:
        return Answer.INFORM_PEOPLE
    return Answer.NOTIFY_CNIL if edpb["authority"] else Answer.REGISTER_ONLY


def features(facts: Facts) -> tuple[object, ...]:
    """What the criteria weigh, as a comparable profile (two breaches alike in these are alike for the EDPB)."""
    f = facts.factors
    availability = "none" if f.availability == "none" else \
        "too_long" if facts.unavailable_too_long else "in_time" if facts.restored_in_time else "unknown"
    large = facts.people is not None and facts.people >= facts.large_scale_from
    return (facts.confidentiality_lost, f.integrity != "none", availability,
            f.data_fate if facts.confidentiality_lost else None, f.malicious, f.malicious_insider, f.unintelligible,
            facts.trusted_and_retrieved, bool(facts.fraud_enabling), facts.special, f.vulnerable_subjects, large,
            f.critical_service)


# How much a difference in each fact of the profile counts: the facts that decide the EDPB's answers (what became of
# the data, encryption, a backup, who had them) weigh more than the circumstances around them.
WEIGHTS = (2, 1, 3, 3, 1, 2, 3, 2, 2, 2, 1, 1, 2)


def nearest(facts: Facts) -> Example:
    """The example whose profile differs least from these facts, the deciding facts weighing more; among equals,
    the first in the guidelines (the answer is not used: the example is a check on it, not its echo)."""
    profile = features(facts)

    def distance(example: Example) -> tuple[int, int]:
        theirs = features(Facts(example.factors, example.factors.people_concerned, facts.large_scale_from))
        return sum(weight for weight, a, b in zip(WEIGHTS, profile, theirs, strict=True) if a != b), example.number

    return min(examples(), key=distance)
