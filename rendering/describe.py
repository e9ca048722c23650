"""A readable French sentence for each kind of timeline entry, from its payload."""

from collections.abc import Callable
from typing import Any

import pendulum

from policy.clocks import CLOCK_RULES, ObligationKind, paris
from policy.scope import PERSONAL_DATA_LABELS, RULES_BY_CATEGORY, SCOPE_LABELS, Scope
from policy.severity import LEVEL_LABELS, RECOMMENDATION_LABELS, Level, Recommendation
from policy.steps import step_label
from policy.transitions import ENTRY_LABELS, EntryKind
from rendering.formats import duration_fr
from rendering.reasons import delivery_reason

PARTIES = {"academy": "l'académie", "municipality": "la collectivité", "engine": "le moteur"}
TEMPLATES = {"cross_party_alert": "l'alerte", "deadline_step": "l'avis d'échéance", "follow_up": "le point de suivi",
             "final_report": "le rapport final", "delivery_failure": "l'avis de non-remise",
             "delivery_recovered": "l'avis de remise finale",
             "acknowledgement_reminder": "la relance d'accusé de réception",
             "breach_drafts": "les projets CNIL et de lettre", "declaration_receipt": "l'accusé d'enregistrement",
             "sign_in_link": "le lien de connexion", "steering_report": "le rapport au comité de pilotage"}


def _obligation(payload: dict[str, Any]) -> str:
    kind = payload.get("obligation")
    return CLOCK_RULES[ObligationKind(kind)].label if kind in set(ObligationKind) else str(kind)


def _when(value: str | None) -> str:
    if not value:
        return "—"
    return paris(pendulum.parse(value)).format("DD/MM/YYYY HH:mm")  # type: ignore[arg-type]


def category_label(category: str) -> str:
    rule = RULES_BY_CATEGORY.get(category)
    return rule.label if rule else category


def _late(payload: dict[str, Any]) -> str:
    late = payload.get("late_by_seconds")
    return f", avec un retard de {duration_fr(late)}" if late else ", dans le délai"


SUBJECTS_DECIDED = {"yes": "informer les personnes concernées", "no": "ne pas informer les personnes concernées",
                    "exempt": "exemption de l'information des personnes (RGPD art. 34(3))"}
EXEMPTION_LABELS = {"encryption": "données inintelligibles, chiffrées", "measures": "mesures ultérieures écartant le "
                    "risque élevé", "disproportionate": "efforts disproportionnés : communication publique"}


def _number(value: float) -> str:
    """A score as a French reader writes it: 3,75."""
    return f"{value:g}".replace(".", ",")


DESCRIPTIONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "declared": lambda p: f"Incident déclaré par {PARTIES.get(p['declared_by'], p['declared_by'])} "
                          f"(commune {p['municipality']}, catégories : "
                          f"{', '.join(category_label(c) for c in p['categories'])}, données personnelles : "
                          f"{PERSONAL_DATA_LABELS.get(p['personal_data'], p['personal_data'])}).",
    "scope_proposed": lambda p: f"Portée proposée : {SCOPE_LABELS[Scope(p['scope'])]} ({p['article']}).",
    "scope_confirmed": lambda p: (f"Portée corrigée en « {SCOPE_LABELS[Scope(p['scope'])]} » : {p['reason']}"
                                  if p.get("override") else
                                  f"Portée confirmée : {SCOPE_LABELS[Scope(p['scope'])]}.") + "",
    "obligation_opened": lambda p: f"Obligation ouverte : {_obligation(p)}, à la charge de "
                                   f"{PARTIES.get(p['owner'], p['owner'])}, échéance {_when(p['due_at'])}.",
    "obligation_reassigned": lambda p: f"{_obligation(p)[:1].upper()}{_obligation(p)[1:]} désormais à la charge de "
                                       f"{PARTIES.get(p['owner'], p['owner'])}.",
    "obligation_met": lambda p: f"Obligation remplie : {_obligation(p)}{_late(p)}.",
    "message_delivered": lambda p: f"Message remis : {TEMPLATES.get(p['template'], p['template'])} à "
                                   f"{p['recipient']} (tentative {p['attempts']}).",
    "message_refused": lambda p: f"Refus définitif par le relais de {TEMPLATES.get(p['template'], p['template'])} "
                                 f"à {p['recipient']} : {delivery_reason(p['error'])} ; plus d'autre tentative, "
                                 "escalade immédiate.",
    "message_cancelled": lambda p: f"{p['messages']} rappel(s) ou avis encore en attente annulé(s) : {p['reason']}.",
    "message_failed": lambda p: f"Échec de remise de {TEMPLATES.get(p['template'], p['template'])} à "
                                f"{p['recipient']} (tentative {p['attempts']}) : {delivery_reason(p['error'])}.",
    "deadline_reminder": lambda p: f"Rappel mis en file d'envoi : {_obligation(p)} ({step_label(p['step'])}).",
    "deadline_escalation": lambda p: f"Escalade mise en file d'envoi, avant l'échéance : {_obligation(p)} "
                                     f"({step_label(p['step'])}).",
    "obligation_overdue": lambda p: f"Échéance dépassée : {_obligation(p)} ; avis aux deux parties.",
    "steps_skipped": lambda p: f"Étapes sautées (passe tardive : seule la plus avancée part) : "
                               f"{', '.join(step_label(step) for step in p['steps'])}.",
    "follow_up_recorded": lambda p: f"Point de suivi : {p.get('done', '')}",
    "closed": lambda p: f"Incident clos : {p.get('summary', '')}",
    "dismissed": lambda p: f"Classé sans suite : {p['reason']}.",
    "personal_data_changed": lambda p: f"Données personnelles : {PERSONAL_DATA_LABELS.get(p['from'], p['from'])} → "
                                       f"{PERSONAL_DATA_LABELS.get(p['to'], p['to'])}"
                                       + (f" ; motif : {p['reason'].rstrip('.')}" if p.get("reason") else "") + ".",
    "obligation_waived": lambda p: f"Obligation levée : {_obligation(p)} ; motif : {p['reason'].rstrip('.')}.",
    "alert_acknowledged": lambda p: "Réception de l'alerte accusée par la partie alertée"
                                    + (f", {duration_fr(p['seconds_after_delivery'])} après sa remise"
                                       if p.get("seconds_after_delivery") else "") + ".",
    "acknowledgement_reminder": lambda p: "Rappel mis en file d'envoi pour la partie alertée, qui n'a pas encore "
                                          "accusé réception de l'alerte.",
    "drafts_prepared": lambda p: "Projets de notification "
                                 + ("complémentaire " if p.get("complementary") else "")
                                 + "et de lettre aux personnes concernées envoyés au DPD.",
    "breach_assessed": lambda p: f"Évaluation de la violation : score ENISA {_number(p['se'])}, gravité "
                                 f"{LEVEL_LABELS[Level(p['level'])]} ; recommandation : "
                                 f"{RECOMMENDATION_LABELS[Recommendation(p['recommendation'])]}.",
    "breach_decided": lambda p: f"Décision du DPD : {'notifier' if p['notify_cnil'] else 'ne pas notifier'} la CNIL, "
                                f"{SUBJECTS_DECIDED[p['subjects']]}"
                                + (f" ({EXEMPTION_LABELS.get(p['exemption'], p['exemption'])})"
                                   if p.get("exemption") else "")
                                + (f". Motivation : {p['rationale'].rstrip('.')}" if p.get("rationale") else "") + ".",
    "cnil_filed": lambda p: f"Notification {'complémentaire ' if p.get('complementary') else ''}déposée auprès de "
                            f"la CNIL (référence {p['reference']}).",
    "subjects_informed": lambda p: f"Personnes concernées informées ({p['channel']}).",
    "attachment_added": lambda p: f"Pièce jointe ajoutée : {p['filename']} ({p['size']} octets, SHA-256 "
                                  f"{p['sha256']})" + (f" ; note : {p['note'].rstrip('.')}" if p.get("note") else "")
                                  + ".",
}


def describe(kind: str, payload: dict[str, Any]) -> str:
    """A French sentence for an entry; for an entry this version cannot read, at least the name of its kind."""
    fallback = f"{ENTRY_LABELS[EntryKind(kind)]}." if kind in set(EntryKind) else kind
    describer = DESCRIPTIONS.get(kind)
    if describer is None:
        return fallback
    try:
        return describer(payload)
    except (KeyError, ValueError):
        return fallback  # an entry written by a later version: its kind still says what happened
