"""Scopes of competence (convention Art. 8; Art. 3.2.1 and 3.2.2): which party handles an incident.

The engine only proposes a scope; an académie triager confirms or overrides it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from policy.parties import Party


class Scope(StrEnum):
    ACADEMY = "academy"
    SHARED = "shared"
    MUNICIPALITY = "municipality"


SCOPE_LABELS: dict[Scope, str] = {
    Scope.ACADEMY: "champ de compétence exclusif de l'académie",
    Scope.SHARED: "champ de compétence partagé entre l'académie et la collectivité",
    Scope.MUNICIPALITY: "champ de compétence exclusif de la collectivité",
}
# Whether personal data is concerned, as the declarant answers it; « unknown » counts as yes until the DPD decides.
PERSONAL_DATA_LABELS: dict[str, str] = {"yes": "oui", "no": "non", "unknown": "à déterminer"}

NO_SCOPE_LABEL = "portée pas encore proposée"  # an incident still queued, before the engine proposes one

SCOPE_ARTICLES: dict[Scope, str] = {
    Scope.ACADEMY: "Art. 8, champ exclusif de l'académie, et Art. 3.2.1",
    Scope.SHARED: "Art. 8, champ partagé : gouvernance, gestion, coresponsabilité des données personnelles",
    Scope.MUNICIPALITY: "Art. 8, champ exclusif de la collectivité, et Art. 3.2.2",
}


@dataclass(frozen=True)
class CategoryRule:
    category: str
    scope: Scope
    article: str
    label: str


# RG-SCOPE-01: each category points to one scope, as Art. 8 lists them.
CATEGORY_RULES: tuple[CategoryRule, ...] = (
    CategoryRule("users_staff", Scope.ACADEMY, "Art. 8, champ exclusif de l'académie, 1er alinéa",
                 "usagers et personnels de l'Éducation nationale"),
    CategoryRule("minor_protection", Scope.ACADEMY, "Art. 8, champ exclusif de l'académie, 1er alinéa",
                 "protection des mineurs"),
    CategoryRule("directory", Scope.ACADEMY, "Art. 8, champ exclusif de l'académie, 2e alinéa",
                 "annuaire de l'ENT alimenté par l'AAF"),
    CategoryRule("data_subject_rights", Scope.ACADEMY, "Art. 8, champ exclusif de l'académie, 5e alinéa",
                 "droits des personnes concernées"),
    CategoryRule("governance", Scope.SHARED, "Art. 8, champ partagé", "gouvernance du dispositif ENT"),
    CategoryRule("platform_management", Scope.SHARED, "Art. 8, champ partagé", "gestion du dispositif ENT"),
    CategoryRule("personal_data", Scope.SHARED, "Art. 8, champ partagé",
                 "coresponsabilité des données à caractère personnel"),
    CategoryRule("infrastructure", Scope.MUNICIPALITY, "Art. 8, champ exclusif de la collectivité ; Art. 3.2.2",
                 "infrastructure (hébergement, réseau, équipements)"),
    CategoryRule("availability", Scope.MUNICIPALITY, "Art. 8, champ exclusif de la collectivité",
                 "maintien en conditions opérationnelles (disponibilité)"),
    CategoryRule("vendor", Scope.MUNICIPALITY, "Art. 8, champ exclusif de la collectivité ; Art. 3.2.2",
                 "prestataire exploitant de l'ENT"),
)

RULES_BY_CATEGORY: dict[str, CategoryRule] = {rule.category: rule for rule in CATEGORY_RULES}
CATEGORIES: tuple[str, ...] = tuple(RULES_BY_CATEGORY)


@dataclass(frozen=True)
class ScopeProposal:
    scope: Scope
    article: str
    reasons: tuple[str, ...]


def propose_scope(categories: Iterable[str], personal_data: str) -> ScopeProposal:
    """Propose the scope of an incident from its categories and whether personal data is involved.

    Raises KeyError for an unknown category: callers validate categories first.
    """
    rules = [RULES_BY_CATEGORY[category] for category in categories]
    reached = {rule.scope for rule in rules}
    reasons = [f"« {rule.label} » relève du {SCOPE_LABELS[rule.scope]} — {rule.article}" for rule in rules]

    if Scope.SHARED in reached:
        # RG-SCOPE-02: any shared category makes the incident shared.
        scope = Scope.SHARED
    elif {Scope.ACADEMY, Scope.MUNICIPALITY} <= reached:
        # RG-SCOPE-03: an incident touching both exclusive fields is shared.
        scope = Scope.SHARED
        reasons.append("l'incident touche les deux champs exclusifs : il relève du champ partagé — Art. 8")
    elif reached:
        scope = reached.pop()
    else:
        scope = Scope.SHARED
        reasons.append("aucune catégorie ne désigne un champ exclusif : champ partagé par défaut — Art. 8")

    if personal_data in ("yes", "unknown") and scope is not Scope.SHARED:
        # RG-SCOPE-04: the académie and the municipality are joint controllers of the ENT's personal data
        # (Art. 8; Art. 26 RGPD): a breach, or a possible one, is at least shared.
        scope = Scope.SHARED
        reasons.append("des données personnelles sont ou peuvent être concernées : coresponsabilité des données "
                       "personnelles, champ partagé au minimum — Art. 8 ; RGPD art. 26")
    return ScopeProposal(scope=scope, article=SCOPE_ARTICLES[scope], reasons=tuple(reasons))


def handling_party(scope: Scope) -> Party:
    """Who handles an incident and owes the other party its follow-ups (Art. 3.2.1, 3.2.2, 4.2).

    A shared incident is coordinated by the académie, which Art. 4.2 charges with informing the municipality
    "des suites leur ayant été données".
    """
    return Party.MUNICIPALITY if scope is Scope.MUNICIPALITY else Party.ACADEMY


def personal_data_now(declared: str, assessed: bool) -> str:
    """Whether personal data is concerned, as of now: a declaration's « unknown » is a yes once the DPD has assessed
    the breach (an assessment weighs the personal data concerned)."""
    return "yes" if declared == "unknown" and assessed else declared
