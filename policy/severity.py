"""Severity of a personal-data breach by the ENISA method (Recommendations for a methodology of the assessment
of severity of personal data breaches, 2013): SE = DPC × EI + CB, and the recommendation that follows.

RG-SEV-01 DPC: the highest base of the data types, adjusted in whole steps within 1..4, each with its reason.
RG-SEV-02 EI: negligible 0.25, limited 0.5, significant 0.75, maximum 1.
RG-SEV-03 CB: confidentiality, integrity, availability, plus malicious intent, added.
RG-SEV-04 data unintelligible to whoever obtained it: confidentiality counts 0 and EI is negligible.
RG-SEV-05 levels: low < 2 ≤ medium < 3 ≤ high < 4 ≤ very high.
RG-SEV-06 recommendation: low → register only; medium → notify the CNIL (GDPR 33); high, very high → notify the
CNIL and communicate to data subjects (GDPR 34). It is the starting point of the recommendation made to the DPD, which
the EDPB's criteria then raise or lower (policy/breach_criteria.py, policy/recommendation.py).
"""

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


class Recommendation(StrEnum):
    REGISTER_ONLY = "register_only"
    NOTIFY_CNIL = "notify_cnil"
    NOTIFY_CNIL_AND_SUBJECTS = "notify_cnil_and_subjects"


DATA_TYPE_BASE = {"simple": 1, "behavioural": 2, "financial": 3, "sensitive": 4}
DATA_TYPE_LABELS = {"simple": "données simples", "behavioural": "données comportementales",
                    "financial": "données financières", "sensitive": "données sensibles"}
# The categories of personal data concerned, as the CNIL's notification form asks for them (GDPR Art. 33(3)(a)),
# with those an ENT holds about pupils, families and staff.
DATA_CATEGORY_LABELS = {
    "identification": "données d'identification (nom, prénom, date de naissance, classe, école)",
    "contact": "coordonnées (adresse postale, adresse électronique, téléphone)",
    "credentials": "identifiants et mots de passe de connexion",
    "school_life": "vie scolaire (absences, évaluations, notes, appréciations)",
    "messages": "contenu des échanges (messagerie, documents partagés, cahier de textes)",
    "health": "données de santé (projet d'accueil individualisé, handicap, aménagements)",
    "social_financial": "situation sociale ou financière (bourses, restauration, montants facturés)",
    "bank_details": "coordonnées bancaires (IBAN, carte de paiement)",
    "social_security_number": "numéro de sécurité sociale (NIR) ou autre identifiant national",
    "identity_documents": "copies de pièces d'identité",
    "professional": "vie professionnelle (CV, parcours, rémunération des personnels)",
    "images": "photographies, vidéos ou enregistrements",
    "connection_logs": "données de connexion (journaux, adresses IP)",
    "location": "données de localisation",
}
# The type of a breach (GDPR Art. 4(12); the CNIL's form): which of the three security properties was lost.
BREACH_TYPE_LABELS = {
    "confidentiality": "atteinte à la confidentialité (accès ou divulgation non autorisés)",
    "integrity": "atteinte à l'intégrité (modification non autorisée ou accidentelle)",
    "availability": "atteinte à la disponibilité (perte d'accès ou destruction)",
}
# What became of data whose confidentiality was lost: the EDPB weighs data taken or published far above data exposed.
DATA_FATE_LABELS = {
    "exposed": "exposées : accessibles ou vues par des personnes non autorisées, sans copie connue",
    "exfiltrated": "emportées ou copiées hors du contrôle du responsable (vol, téléchargement, transfert)",
    "published": "rendues publiques",
}
EASE_OF_IDENTIFICATION = {"negligible": 0.25, "limited": 0.5, "significant": 0.75, "maximum": 1.0}
EI_LABELS = {"negligible": "négligeable", "limited": "limitée", "significant": "significative", "maximum": "maximale"}
CONFIDENTIALITY = {"none": 0.0, "limited": 0.25, "wide": 0.5}
INTEGRITY = {"none": 0.0, "recoverable": 0.25, "unrecoverable": 0.5}
AVAILABILITY = {"none": 0.0, "temporary": 0.25, "permanent": 0.5}
MALICIOUS = 0.5
LEVEL_LABELS = {Level.LOW: "faible", Level.MEDIUM: "moyenne", Level.HIGH: "élevée", Level.VERY_HIGH: "très élevée"}
RECOMMENDATION_LABELS = {
    Recommendation.REGISTER_ONLY: "inscrire la violation au registre, sans notification",
    Recommendation.NOTIFY_CNIL: "notifier la CNIL dans les 72 heures (RGPD art. 33)",
    Recommendation.NOTIFY_CNIL_AND_SUBJECTS: "notifier la CNIL dans les 72 heures (RGPD art. 33) et informer les "
                                             "personnes concernées (RGPD art. 34)",
}


@dataclass(frozen=True)
class DpcAdjustment:
    step: int  # +1 or -1
    reason: str


@dataclass(frozen=True)
class Factors:
    data_types: tuple[str, ...]
    ease_of_identification: str
    confidentiality: str = "none"
    integrity: str = "none"
    availability: str = "none"
    malicious: bool = False
    unintelligible: bool = False
    vulnerable_subjects: bool = False
    dpc_adjustments: tuple[DpcAdjustment, ...] = ()
    # What the EDPB's criteria weigh beyond the ENISA score (policy/breach_criteria.py); None: not known.
    data_categories: tuple[str, ...] = ()
    people_concerned: int | None = None
    data_fate: str | None = None  # DATA_FATE_LABELS
    trusted_recipient: bool = False
    data_retrieved: bool = False
    malicious_insider: bool = False
    unavailable_hours: float | None = None
    tolerable_hours: float | None = None
    backup_restored: bool | None = None
    critical_service: bool = False


@dataclass(frozen=True)
class Severity:
    dpc: int
    ei: float
    cb: float
    se: float
    level: Level
    recommendation: Recommendation
    reasons: tuple[str, ...]


def level_of(se: float) -> Level:
    if se < 2:
        return Level.LOW
    if se < 3:
        return Level.MEDIUM
    if se < 4:
        return Level.HIGH
    return Level.VERY_HIGH


RECOMMENDATIONS = {Level.LOW: Recommendation.REGISTER_ONLY, Level.MEDIUM: Recommendation.NOTIFY_CNIL,
                   Level.HIGH: Recommendation.NOTIFY_CNIL_AND_SUBJECTS,
                   Level.VERY_HIGH: Recommendation.NOTIFY_CNIL_AND_SUBJECTS}


def assess(factors: Factors, minors_uplift: int = 1) -> Severity:
    """Score a breach; every figure comes with its reason in French."""
    reasons: list[str] = []
    base_type = max(factors.data_types, key=lambda t: DATA_TYPE_BASE[t])
    dpc = DATA_TYPE_BASE[base_type]
    if len(set(factors.data_types)) > 1:
        reasons.append(f"DPC de base {dpc} : plusieurs types de données, le plus élevé retenu "
                       f"({DATA_TYPE_LABELS[base_type]}).")
    else:
        reasons.append(f"DPC de base {dpc} : {DATA_TYPE_LABELS[base_type]}.")
    adjustments = list(factors.dpc_adjustments)
    if factors.vulnerable_subjects and minors_uplift:
        adjustments.insert(0, DpcAdjustment(minors_uplift, "personnes vulnérables : les élèves sont mineurs"))
    for adjustment in adjustments:
        adjusted = min(4, max(1, dpc + adjustment.step))
        sign = "+" if adjustment.step > 0 else "−"
        bound = "" if adjusted == dpc + adjustment.step else " (borné à l'intervalle 1 à 4)"
        reasons.append(f"DPC {sign}{abs(adjustment.step)} : {adjustment.reason} → {adjusted}{bound}.")
        dpc = adjusted

    ei_key = "negligible" if factors.unintelligible else factors.ease_of_identification
    ei = EASE_OF_IDENTIFICATION[ei_key]
    confidentiality = 0.0 if factors.unintelligible else CONFIDENTIALITY[factors.confidentiality]
    if factors.unintelligible:
        reasons.append("Données inintelligibles pour qui les a obtenues (chiffrement à l'état de l'art, clé non "
                       "compromise) : la perte de confidentialité est peu susceptible d'engendrer un risque ; "
                       "identification négligeable (EI 0,25) et critère de confidentialité compté 0.")
    else:
        reasons.append(f"Facilité d'identification {EI_LABELS[ei_key]} : EI {_fr(ei)}.")
    cb_parts = [("confidentialité", confidentiality), ("intégrité", INTEGRITY[factors.integrity]),
                ("disponibilité", AVAILABILITY[factors.availability])]
    if factors.malicious:
        cb_parts.append(("intention malveillante", MALICIOUS))
    cb = sum(value for _, value in cb_parts)
    reasons.append("Circonstances (CB) : " + ", ".join(f"{name} {_fr(value)}" for name, value in cb_parts)
                   + f" ; total {_fr(cb)}.")
    se = dpc * ei + cb
    level = level_of(se)
    recommendation = RECOMMENDATIONS[level]
    reasons.append(f"Gravité SE = DPC × EI + CB = {dpc} × {_fr(ei)} + {_fr(cb)} = {_fr(se)} : "
                   f"{LEVEL_LABELS[level]}.")
    reasons.append(f"Recommandation de la seule méthode ENISA : {RECOMMENDATION_LABELS[recommendation]}.")
    return Severity(dpc, ei, cb, se, level, recommendation, tuple(reasons))


def _fr(value: float) -> str:
    """A score as a French reader writes it: 1,25 rather than 1.25."""
    return f"{value:g}".replace(".", ",")
