"""What `show` and `list` print for a person: every fact of an incident in French, instants in Paris time."""

import unicodedata
from typing import TYPE_CHECKING, Any

from cli.views import (
    INCIDENT_STATUS_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    scope_text,
)
from models.errors import FieldError, InvalidInput
from models.gate import shown_ref
from policy.clocks import CLOCK_RULES, ObligationKind
from policy.messages import TEMPLATE_LABELS, message_status_label
from policy.parties import Party
from policy.scope import PERSONAL_DATA_LABELS, RULES_BY_CATEGORY, personal_data_now
from policy.severity import LEVEL_LABELS, Level
from policy.steps import step_label
from policy.transitions import BREACH_STATE_LABELS, BreachState
from rendering.describe import SUBJECTS_DECIDED
from rendering.formats import duration_fr, grouped, paris_datetime, subjects_text

if TYPE_CHECKING:
    from models.plain_reads import BreachRow, IncidentRow
    from settings.parties import Parties

LIST_HEADINGS = ("Référence", "État", "Commune", "Portée", "Titre")


def commune_code(value: str, parties: "Parties") -> str:
    """The INSEE code of a configured commune named by its code or its name (case and accents aside)."""
    from models.declaration import communes_text  # the declaration's model: loaded only to refuse

    wanted = _folded(value)
    for municipality in parties.municipalities:
        if value.strip() == municipality.insee or wanted == _folded(municipality.name):
            return municipality.insee
    raise InvalidInput([FieldError("--commune", f"commune inconnue « {shown_ref(value)} » ; communes configurées : "
                                                f"{communes_text(parties)}")])


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).replace("-", " ")


def commune_text(insee: str, parties: "Parties") -> str:
    municipality = parties.municipality(insee)
    return f"{municipality.name} (INSEE {insee})" if municipality else f"commune INSEE {insee}"


def when(iso: str | None) -> str:
    """« le samedi 28 novembre 2026 à 09h30 (heure de Paris) »."""
    return f"le {paris_datetime(iso)}" if iso else "non précisé"


def show_lines(incident: "IncidentRow", view: dict[str, Any], breach: "BreachRow", parties: "Parties") -> list[str]:
    """The whole incident, one fact per line, as `incidents show` prints it."""
    municipality = parties.municipality(incident.municipality_insee)
    school_names = {school.uai: school.name for school in municipality.schools} if municipality else {}
    schools = [f"{school_names[uai]} (UAI {uai})" if uai in school_names else f"UAI {uai}"
               for uai in incident.schools]
    categories = [RULES_BY_CATEGORY[c].label if c in RULES_BY_CATEGORY else c for c in incident.categories]
    people = subjects_text(incident.data_subjects)
    scope_state = "arrêtée" if view["scope_status"] == "confirmed" else "proposée"
    lines = [
        f"{incident.ref} — {incident.title}",
        f"État : {INCIDENT_STATUS_LABELS[incident.status]}",
        f"Description : {incident.description.strip()}",
        f"Déclaré par : {Party(incident.declared_by).label}",
        f"Commune : {commune_text(incident.municipality_insee, parties)}",
        f"Écoles : {', '.join(schools) if schools else 'aucune précisée'}",
        f"Signalé par : {incident.reporter_name} ({incident.reporter_email})",
        f"Catégories : {' ; '.join(categories)}",
        "Données personnelles : "
        + PERSONAL_DATA_LABELS[personal_data_now(incident.personal_data, assessed=breach.level is not None)],
        f"Personnes concernées : {', '.join(people) if people else 'non précisé'}",
        "Enregistrements concernés : " + (grouped(incident.records) if incident.records is not None
                                           else "non précisé"),
        f"Connu depuis : {when(view['aware_at'])}",
        f"Survenu : {when(view['occurred_at'])}",
        f"Déclaré : {when(view['declared_at'])}",
        f"Portée ({scope_state}) : {scope_text(view['scope'])}"
        + (f" ; motif : {view['scope_reason']}" if view["scope_reason"] else ""),
    ]
    acknowledgement = view["acknowledgement"]
    lines.append(f"Accusé de réception de l'alerte : {when(acknowledgement['at'])} par {acknowledgement['by']}"
                 if acknowledgement["at"] else "Accusé de réception de l'alerte : pas encore reçu")
    if incident.closed_at is not None:
        lines.append(f"Clos : {when(view['closed_at'])}")
    if incident.dismissed_at is not None:
        lines.append(f"Classé sans suite : {when(view['dismissed_at'])}"
                     + (f" ; motif : {incident.dismissal_reason}" if incident.dismissal_reason else ""))
    breach_state = breach_text(incident, breach)
    if breach_state:
        lines.append(f"Violation de données personnelles : {breach_state}")
    lines.append("Obligations :" if view["obligations"] else "Obligations : aucune")
    lines += [f"  {obligation_text(obligation)}" for obligation in view["obligations"]]
    if view.get("messages"):
        lines.append("Messages :")
        lines += [f"  {message_text(message)}" for message in view["messages"]]
    return lines


def obligation_text(o: dict[str, Any]) -> str:
    """« Notification à la CNIL, à la charge de l'académie : échéance dépassée depuis 2 jours ; échéance le … »."""
    status = STATUS_LABELS[o["status"]]
    if o["status"] == "overdue" and o["late_by_seconds"]:
        status += f" depuis {duration_fr(o['late_by_seconds'])}"
    elif o["status"] == "late" and o["late_by_seconds"]:
        status += f" de {duration_fr(o['late_by_seconds'])}"
    met = f" ; remplie {when(o['met_at'])}" if o["met_at"] else ""
    return (f"{KIND_LABELS[o['kind']]}, à la charge de {Party(o['owner']).label} : {status} ; "
            f"échéance {when(o['due_at'])}{met}")


def message_text(m: dict[str, Any]) -> str:
    """« Rappel à 75 % du délai : notification à la CNIL → dpd@… : remis (1 tentative) »."""
    what = TEMPLATE_LABELS.get(m["template"], "message")
    if m["template"] == "deadline_step":
        what = step_label(m["step"].rpartition(":")[2])
    if m.get("obligation") in set(ObligationKind) and m["template"] in ("deadline_step",):
        what += f" : {CLOCK_RULES[ObligationKind(m['obligation'])].label}"
    attempts = f"{m['attempts']} tentative{'s' if m['attempts'] > 1 else ''}"
    error = f" ; dernière erreur : {m['last_error']}" if m["last_error"] and m["status"] != "sent" else ""
    return f"{what[:1].upper()}{what[1:]} → {m['recipient']} : {message_status_label(m['status'])} " \
           f"({attempts}){error}"


def breach_text(incident: "IncidentRow", breach: "BreachRow") -> str | None:
    """Where the breach stands, if the incident may be one: evaluated, decided, and what the DPD decided."""
    if incident.personal_data == "no" and breach.level is None:
        return None
    decided, assessed = breach.notify_cnil is not None, breach.level is not None
    state = BreachState.DECIDED if decided else BreachState.ASSESSED if assessed else BreachState.NONE
    text = BREACH_STATE_LABELS[state]
    if breach.level is not None:
        text += f" ; gravité {LEVEL_LABELS[Level(breach.level)]}"
    if breach.notify_cnil is not None and breach.subjects is not None:
        text += (f" ; décision : {'notifier' if breach.notify_cnil else 'ne pas notifier'} la CNIL, "
                 f"{SUBJECTS_DECIDED.get(breach.subjects, breach.subjects)}")
    return text


def list_lines(views: list[dict[str, Any]], parties: "Parties") -> list[str]:
    """One row per incident under French headings, its obligations' states on the line below."""
    rows = [(view["ref"], INCIDENT_STATUS_LABELS[view["status"]], commune_text(view["municipality"], parties),
             scope_text(view["scope"]), view["title"]) for view in views]
    widths = [max(len(row[i]) for row in [LIST_HEADINGS, *rows]) for i in range(len(LIST_HEADINGS) - 1)]
    lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(LIST_HEADINGS, widths, strict=False)),
                        LIST_HEADINGS[-1]])]
    for row, view in zip(rows, views, strict=True):
        lines.append("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]))
        if view["obligations"]:
            states = " ; ".join(f"{CLOCK_RULES[ObligationKind(o['kind'])].label} : {STATUS_LABELS[o['status']]}"
                                for o in view["obligations"])
            lines.append(f"{'':{widths[0]}}  Obligations : {states}")
    return lines
