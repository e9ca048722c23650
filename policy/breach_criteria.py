"""What the ENISA arithmetic cannot see: the criteria that the European Data Protection Board's examples weigh
(EDPB, Guidelines 01/2021 on examples regarding personal data breach notification, v2.0, 14 December 2021; and the
Article 29 Working Party's Guidelines on personal data breach notification, WP250 rev.01, § IV.B, which the EDPB
endorsed). Each rule reads the assessment's facts and either raises the recommendation to at least an answer
(a floor) or, where the facts contain the risk, lowers it to at most an answer (a cap). An unknown fact never
lowers anything (a cap resting on what the data are not needs their categories): in doubt, notify (the CNIL's
guidance).

RG-CRIT-01 large scale: intelligible data of at least `large_scale_from` people lost their confidentiality → inform
           the people; any other loss at that scale → notify the CNIL (EDPB cases 11, 14; WP250 IV.B).
RG-CRIT-02 unavailability: data lost for good, not restored from a backup, or unavailable longer than the service
           can do without them → notify the CNIL; and when the service is one people's care or safety depends on →
           inform them (EDPB cases 2, 3).
RG-CRIT-03 restored in time: only availability (and a repaired integrity) lost, restored from a backup within what
           the service tolerates, nothing exposed, neither special-category data nor a service people's care or
           safety depends on → register only if the data were encrypted at rest (EDPB case 1), else CNIL at most.
RG-CRIT-04 fraud or identity theft: intelligible identity documents, bank details, credentials or a social-security
           number, exposed → notify the CNIL; taken or published, or reached by someone acting with malice → inform
           the people (EDPB cases 4, 7, 14, 18; WP250 IV.B).
RG-CRIT-05 taken or published: intelligible data published, or taken (copied, stolen) by a malicious outsider, whose
           use nobody can rule out → inform the people (EDPB cases 5, 11, 12, 17); taken without established
           malice → notify the CNIL.
RG-CRIT-06 trusted recipient: data seen only by a known recipient bound to secrecy, who returned or deleted them,
           without malice → register only; with special-category data → notify the CNIL at most (EDPB case 9; WP250).
RG-CRIT-07 malicious insider: the controller has no assurance about what the person will do → notify the CNIL
           (EDPB case 8).
RG-CRIT-08 vulnerable people (children, patients): their intelligible data reached someone who is not a trusted
           recipient → notify the CNIL (WP250 IV.B, "special characteristics of the individual").
RG-CRIT-09 unintelligible data: state-of-the-art encryption (or salted hashing) with the key safe, and nothing lost
           but confidentiality or a restored availability → register only (GDPR Art. 34(3)(a); EDPB cases 6, 10).
RG-CRIT-10 contained disclosure: an accidental disclosure to known recipients, exposed but not taken, with neither
           special-category nor fraud-enabling data, nor vulnerable people → notify the CNIL at most, no high risk
           (EDPB cases 13, 16).
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from policy.severity import Factors

SPECIAL_CATEGORIES = frozenset({"health"})  # GDPR Art. 9, of the categories an ENT holds
FRAUD_ENABLING = frozenset({"identity_documents", "bank_details", "credentials", "social_security_number"})
FRAUD_ENABLING_LABELS = {"identity_documents": "pièces d'identité", "bank_details": "coordonnées bancaires",
                         "credentials": "identifiants de connexion",
                         "social_security_number": "numéro de sécurité sociale"}
LARGE_SCALE_FROM = 10_000  # neither the EDPB nor the CNIL gives a figure; the parties' file may set another


class Answer(IntEnum):
    """The three answers, ordered from the least to the most protective."""

    REGISTER_ONLY = 0
    NOTIFY_CNIL = 1
    INFORM_PEOPLE = 2


ANSWER_LABELS = {Answer.REGISTER_ONLY: "inscription au registre seulement",
                 Answer.NOTIFY_CNIL: "notification à la CNIL",
                 Answer.INFORM_PEOPLE: "information des personnes concernées"}


CRITERION_LABELS = {
    "RG-CRIT-01": "grande échelle", "RG-CRIT-02": "durée d'indisponibilité",
    "RG-CRIT-03": "restauration dans les délais",
    "RG-CRIT-04": "données propres à la fraude ou à l'usurpation d'identité",
    "RG-CRIT-05": "données emportées ou publiées", "RG-CRIT-06": "destinataire de confiance",
    "RG-CRIT-07": "personne interne malveillante", "RG-CRIT-08": "personnes vulnérables",
    "RG-CRIT-09": "données inintelligibles", "RG-CRIT-10": "divulgation circonscrite",
}


@dataclass(frozen=True)
class Finding:
    rule: str  # RG-CRIT-nn
    raises: bool  # True: at least `answer`; False: at most `answer`
    answer: Answer
    reason: str  # in French, with the facts that made it apply
    source: str  # where the guidelines state it

    @property
    def label(self) -> str:
        return f"« {CRITERION_LABELS[self.rule]} »"


@dataclass(frozen=True)
class Facts:
    """The assessment's facts as the criteria read them."""

    factors: Factors
    people: int | None  # how many people are concerned: the assessment's figure, else the declaration's
    large_scale_from: int = LARGE_SCALE_FROM

    @property
    def confidentiality_lost(self) -> bool:
        return self.factors.confidentiality != "none"

    @property
    def intelligible(self) -> bool:
        return not self.factors.unintelligible

    @property
    def taken(self) -> bool:
        return self.factors.data_fate in ("exfiltrated", "published")

    @property
    def trusted_and_retrieved(self) -> bool:
        f = self.factors
        return f.trusted_recipient and f.data_retrieved and not f.malicious and f.data_fate != "published"

    @property
    def fraud_enabling(self) -> list[str]:
        return [FRAUD_ENABLING_LABELS[c] for c in self.factors.data_categories if c in FRAUD_ENABLING]

    @property
    def special(self) -> bool:
        """Special-category data, by the categories given or by the ENISA data type."""
        return "sensitive" in self.factors.data_types or any(c in SPECIAL_CATEGORIES
                                                             for c in self.factors.data_categories)

    @property
    def categories_known(self) -> bool:
        """Whether the categories were given: without them, no cap may rest on what the data are not."""
        return bool(self.factors.data_categories)

    @property
    def restored_in_time(self) -> bool:
        f = self.factors
        return f.backup_restored is True and f.unavailable_hours is not None and f.tolerable_hours is not None \
            and f.unavailable_hours <= f.tolerable_hours

    @property
    def unavailable_too_long(self) -> bool:
        f = self.factors
        return f.availability == "permanent" or f.availability != "none" and (f.backup_restored is False or (
            f.unavailable_hours is not None and f.tolerable_hours is not None
            and f.unavailable_hours > f.tolerable_hours))


WP250 = "G29, lignes directrices sur la notification de violations (WP250 rév.01), § IV.B"


def _edpb(*cases: int) -> str:
    if len(cases) == 1:
        return f"CEPD, lignes directrices 01/2021, cas n° {cases[0]}"
    numbers = ", ".join(str(case) for case in cases[:-1]) + f" et {cases[-1]}"
    return f"CEPD, lignes directrices 01/2021, cas nos {numbers}"


def large_scale(facts: Facts) -> Finding | None:
    if facts.people is None or facts.people < facts.large_scale_from:
        return None
    count = _grouped(facts.people)
    if facts.confidentiality_lost and facts.intelligible and not facts.trusted_and_retrieved:
        return Finding("RG-CRIT-01", True, Answer.INFORM_PEOPLE,
                       f"les données lisibles de {count} personnes ont perdu leur confidentialité (seuil retenu : "
                       f"{_grouped(facts.large_scale_from)})",
                       f"{_edpb(11, 14)} ; {WP250}")
    if facts.factors.integrity != "none" or facts.factors.availability != "none":
        return Finding("RG-CRIT-01", True, Answer.NOTIFY_CNIL, f"{count} personnes concernées",
                       f"{_edpb(11, 14)} ; {WP250}")
    return None


def unavailability(facts: Facts) -> Finding | None:
    f = facts.factors
    if not facts.unavailable_too_long:
        return None
    why = "données perdues définitivement" if f.availability == "permanent" else \
        "aucune sauvegarde n'a restauré les données" if f.backup_restored is False else \
        f"données indisponibles {_hours(f.unavailable_hours)}, quand le service peut s'en passer au plus " \
        f"{_hours(f.tolerable_hours)}"
    if f.critical_service:
        return Finding("RG-CRIT-02", True, Answer.INFORM_PEOPLE,
                       f"{why}, pour un service dont dépendent la santé ou la sécurité des personnes", _edpb(3))
    return Finding("RG-CRIT-02", True, Answer.NOTIFY_CNIL, why, _edpb(2))


def restored_in_time(facts: Facts) -> Finding | None:
    f = facts.factors
    # The EDPB's case 1: ordinary data, an ordinary service; a hospital's (case 3) or health data stay as scored.
    if f.availability != "temporary" or not facts.restored_in_time or facts.confidentiality_lost \
            or f.integrity == "unrecoverable" or f.critical_service or facts.special:
        return None
    # Case 1's data were encrypted at rest: an attacker who held readable data is not ruled out otherwise, so a
    # timely restore alone only removes the high risk.
    return Finding("RG-CRIT-03", False, Answer.REGISTER_ONLY if f.unintelligible else Answer.NOTIFY_CNIL,
                   f"données restaurées depuis une sauvegarde en {_hours(f.unavailable_hours)}, dans le délai que le "
                   f"service supporte ({_hours(f.tolerable_hours)}), sans perte de confidentialité", _edpb(1))


def fraud_enabling(facts: Facts) -> Finding | None:
    kinds = facts.fraud_enabling
    if not kinds or not facts.confidentiality_lost or not facts.intelligible:
        return None
    what = f"données propres à la fraude ({', '.join(kinds)})"
    if facts.taken or facts.factors.malicious:
        how = {"published": "rendues publiques", "exfiltrated": "emportées ou copiées"}.get(
            facts.factors.data_fate or "", "atteintes avec malveillance")
        return Finding("RG-CRIT-04", True, Answer.INFORM_PEOPLE, f"{what} {how}",
                       f"{_edpb(4, 7, 14, 18)} ; {WP250}")
    return Finding("RG-CRIT-04", True, Answer.NOTIFY_CNIL,
                   f"{what} exposées",
                   f"{_edpb(14)} ; {WP250}")


def taken_or_published(facts: Facts) -> Finding | None:
    f = facts.factors
    if not facts.confidentiality_lost or not facts.intelligible:
        return None
    if f.data_fate == "published":
        return Finding("RG-CRIT-05", True, Answer.INFORM_PEOPLE, "données lisibles rendues publiques",
                       f"{_edpb(5, 11)} ; {WP250}")
    if f.data_fate != "exfiltrated" or f.malicious_insider or facts.trusted_and_retrieved:
        return None
    if f.malicious:
        return Finding("RG-CRIT-05", True, Answer.INFORM_PEOPLE,
                       "données lisibles emportées ou copiées par un tiers malveillant, dont nul ne peut exclure "
                       "l'usage", _edpb(5, 11, 12, 17))
    return Finding("RG-CRIT-05", True, Answer.NOTIFY_CNIL,
                   "données lisibles sorties du contrôle du responsable, sans malveillance établie", _edpb(5, 11))


def trusted_recipient(facts: Facts) -> Finding | None:
    if not facts.confidentiality_lost or not facts.trusted_and_retrieved or facts.factors.malicious_insider \
            or not facts.categories_known:
        return None
    if facts.special:
        return Finding("RG-CRIT-06", False, Answer.NOTIFY_CNIL,
                       "destinataire de confiance tenu au secret, qui a rendu ou supprimé les données ; des données "
                       "de santé en faisaient partie", f"{_edpb(9)} ; {WP250}")
    return Finding("RG-CRIT-06", False, Answer.REGISTER_ONLY,
                   "destinataire de confiance tenu au secret, qui a rendu ou supprimé les données",
                   f"{_edpb(9)} ; {WP250}")


def malicious_insider(facts: Facts) -> Finding | None:
    if not facts.factors.malicious_insider:
        return None
    return Finding("RG-CRIT-07", True, Answer.NOTIFY_CNIL,
                   "rien ne garantit l'usage que l'auteur, une personne interne, fera des données", _edpb(8))


def vulnerable_people(facts: Facts) -> Finding | None:
    if not facts.factors.vulnerable_subjects or not facts.confidentiality_lost or not facts.intelligible \
            or facts.trusted_and_retrieved:
        return None
    return Finding("RG-CRIT-08", True, Answer.NOTIFY_CNIL,
                   "des élèves mineurs ou d'autres personnes vulnérables, dont les données lisibles ont atteint un "
                   "tiers qui n'est pas un destinataire de confiance",
                   WP250)


def unintelligible(facts: Facts) -> Finding | None:
    f = facts.factors
    if not f.unintelligible or f.integrity == "unrecoverable" or f.data_fate == "published":
        return None
    if f.availability != "none" and not facts.restored_in_time:
        return None
    return Finding("RG-CRIT-09", False, Answer.REGISTER_ONLY,
                   "chiffrement à l'état de l'art, clé non compromise : les données sont illisibles pour qui les a "
                   "obtenues", f"RGPD art. 34(3)(a) ; {_edpb(6, 10)}")


def contained_disclosure(facts: Facts) -> Finding | None:
    f = facts.factors
    if f.confidentiality != "limited" or f.data_fate != "exposed" or f.malicious or f.malicious_insider \
            or facts.special or facts.fraud_enabling or f.vulnerable_subjects or not facts.intelligible \
            or not facts.categories_known:
        return None
    return Finding("RG-CRIT-10", False, Answer.NOTIFY_CNIL,
                   "divulgation accidentelle à des destinataires connus, sans copie ni publication, sans données "
                   "sensibles ni propres à la fraude, sans personnes vulnérables : pas de risque élevé",
                   _edpb(13, 16))


CRITERIA: tuple[Callable[[Facts], Finding | None], ...] = (
    large_scale, unavailability, restored_in_time, fraud_enabling, taken_or_published, trusted_recipient,
    malicious_insider, vulnerable_people, unintelligible, contained_disclosure,
)


def findings(facts: Facts) -> list[Finding]:
    return [finding for rule in CRITERIA if (finding := rule(facts)) is not None]


def _grouped(number: int) -> str:
    """12 345 as a French reader writes it, with a narrow no-break space."""
    return f"{number:,}".replace(",", "\u202f")


def _hours(hours: float | None) -> str:
    if hours is None:
        return "?"
    if hours >= 48 and hours % 24 == 0:
        return f"{int(hours // 24)} jours"
    return f"{round(hours, 2):g} h".replace(".", ",")
