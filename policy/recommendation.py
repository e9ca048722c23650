"""The recommendation made to the DPD: the ENISA score, raised or lowered by the EDPB's criteria, with the criteria
that decided it and the published example it is closest to.

RG-REC-01 start from the ENISA recommendation (RG-SEV-06).
RG-REC-02 a criterion that contains the risk (a cap) lowers it: the ENISA arithmetic cannot see a trusted recipient,
          a restored backup or a disclosure that went no further.
RG-REC-03 a criterion that raises the risk (a floor) raises it: the score cannot see the number of people, how long
          data stay unavailable, what the data enable, whether they were taken, or who took them.
RG-REC-04 where a floor and a cap conflict, the more protective answer stands, and the recommendation says so:
          in doubt, notify (the CNIL's guidance).
"""

from dataclasses import dataclass

from policy.breach_criteria import ANSWER_LABELS, Answer, Facts, Finding, findings
from policy.edpb_examples import Example, nearest
from policy.severity import RECOMMENDATION_LABELS, Factors, Recommendation, Severity, assess

ANSWER_OF = {Recommendation.REGISTER_ONLY: Answer.REGISTER_ONLY, Recommendation.NOTIFY_CNIL: Answer.NOTIFY_CNIL,
             Recommendation.NOTIFY_CNIL_AND_SUBJECTS: Answer.INFORM_PEOPLE}
RECOMMENDATION_OF = {answer: recommendation for recommendation, answer in ANSWER_OF.items()}
ENISA = "le score ENISA"


@dataclass(frozen=True)
class Advice:
    severity: Severity  # the ENISA score and its own recommendation
    recommendation: Recommendation
    deciding: tuple[Finding, ...]  # empty: the ENISA score decided alone
    others: tuple[Finding, ...]  # criteria that applied without changing the answer
    conflict: str | None  # why the more protective answer stood, when criteria pulled both ways
    example: Example

    @property
    def reasons(self) -> tuple[str, ...]:
        """The ENISA computation, then what decided the answer, in French."""
        return (*self.severity.reasons, *self.basis_lines(with_score=False))

    def basis_lines(self, with_score: bool = True) -> list[str]:
        """What decided the answer; `with_score` adds the score's own answer where it differs (for a reader who
        does not see the ENISA computation above)."""
        lines = [f"Recommandation : {RECOMMENDATION_LABELS[self.recommendation]}."]
        if with_score and self.severity.recommendation != self.recommendation:
            lines.append(f"Le score ENISA seul aurait conduit à : "
                         f"{RECOMMENDATION_LABELS[self.severity.recommendation]}.")
        if self.deciding:
            lines += [f"Décidée par le critère {finding.label} ({_effect(finding)}) : {finding.reason} "
                      f"({finding.source})." for finding in self.deciding]
        else:
            lines.append("Décidée par le score ENISA, qu'aucun critère du CEPD ne modifie.")
        lines += [f"Critère également rempli, conforme à la réponse retenue : {finding.label} : {finding.reason}."
                  for finding in self.others]
        if self.conflict:
            lines.append(self.conflict)
        lines.append(f"Exemple publié le plus proche : {self.example.citation()}, où le CEPD conclut : "
                     f"{self.example.conclusion_text()}.")
        return lines

    def summary(self) -> dict[str, object]:
        """The figures and the answer, as the command line's --json and the API give them."""
        s = self.severity
        return {"dpc": s.dpc, "ei": s.ei, "cb": s.cb, "se": s.se, "level": s.level.value,
                "enisa_recommendation": s.recommendation.value, "recommendation": self.recommendation.value,
                "deciding": [finding.rule for finding in self.deciding], "conflict": self.conflict,
                "nearest_example": {"case": self.example.number, "title": self.example.title,
                                    "edpb_conclusion": RECOMMENDATION_OF[self.example.conclusion].value},
                "reasons": list(self.reasons)}

    def stored(self) -> dict[str, object]:
        """What an assessment keeps of the recommendation's basis (the audit file and the decision form read it)."""
        return {"enisa_recommendation": self.severity.recommendation.value,
                "deciding": [finding.rule for finding in self.deciding],
                "criteria": [finding.rule for finding in (*self.deciding, *self.others)],
                "conflict": self.conflict, "example": self.example.number, "lines": self.basis_lines()}


def recommend(factors: Factors, minors_uplift: int = 1, people: int | None = None,
              large_scale_from: int | None = None) -> Advice:
    """The recommendation for these facts; `people` is the declaration's count when the DPD gave none."""
    severity = assess(factors, minors_uplift)
    facts = Facts(factors, factors.people_concerned if factors.people_concerned is not None else people,
                  **({"large_scale_from": large_scale_from} if large_scale_from else {}))
    applied = findings(facts)
    enisa = ANSWER_OF[severity.recommendation]
    caps = [finding for finding in applied if not finding.raises]
    floors = [finding for finding in applied if finding.raises]
    cap = min((finding.answer for finding in caps), default=Answer.INFORM_PEOPLE)
    floor = max((finding.answer for finding in floors), default=Answer.REGISTER_ONLY)
    answer = max(min(enisa, cap), floor)
    conflict = None
    if floor > cap:
        # An overruled cap lowers nothing: the score stands unless a floor goes higher.
        answer = max(enisa, floor)
        held = [finding for finding in floors if finding.answer == floor]
        deciding = held if answer == floor > enisa else []
        yielded = [finding for finding in caps if finding.answer < floor]
        conflict = (f"Les critères divergent : {_rules(yielded)} conduirait à {_at_most(yielded)}, "
                    f"{_rules(held)} à {ANSWER_LABELS[floor]} au moins ; le plus protecteur l'emporte et "
                    "le premier n'abaisse rien (« en cas de doute, notifier », CNIL).")
    elif answer == enisa:
        deciding = []
    elif answer > enisa:
        deciding = [finding for finding in floors if finding.answer == answer]
    else:
        deciding = [finding for finding in caps if finding.answer == answer]
    others = tuple(finding for finding in applied if finding not in deciding)
    return Advice(severity, RECOMMENDATION_OF[answer], tuple(deciding), others, conflict,
                  nearest(facts))


def _effect(finding: Finding) -> str:
    return f"{'au moins' if finding.raises else 'au plus'} : {ANSWER_LABELS[finding.answer]}"


def _rules(applied: list[Finding]) -> str:
    return " et ".join(finding.label for finding in applied)


def _at_most(caps: list[Finding]) -> str:
    return ANSWER_LABELS[min(finding.answer for finding in caps)]
