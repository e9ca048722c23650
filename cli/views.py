"""What the commands show: plain data for --json, built once, and the French labels of its text rendering.

The labels serve the commands' help: the store is imported only where a view reads it (see cli/app.py on start-up)."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cli.french import choices_help
from policy.clocks import CLOCK_RULES, OBLIGATION_STATUS_LABELS, ObligationKind
from policy.scope import SCOPE_LABELS, Scope
from policy.steps import step_label
from policy.transitions import ENTRY_LABELS as ENTRY_KIND_LABELS
from policy.transitions import INCIDENT_STATE_LABELS
from rendering.formats import iso as iso_paris

if TYPE_CHECKING:
    import pendulum

    from models.driver import PlainStore
    from models.plain_reads import IncidentRow, MessageRow, ObligationRow
    from settings.parties import Person


def obligation_view(obligation: "ObligationRow", now: "pendulum.DateTime") -> dict[str, Any]:
    return {
        "kind": obligation.kind,
        "owner": obligation.owner,
        "anchor_at": iso_paris(obligation.anchor_at),
        "due_at": iso_paris(obligation.due_at),
        "met_at": iso_paris(obligation.met_at),
        "status": obligation.status(now).value,
        "late_by_seconds": obligation.lateness(now),
        "next_action_at": iso_paris(obligation.next_action_at),
    }


def message_view(message: "MessageRow", obligation: str | None = None) -> dict[str, Any]:
    return {
        "template": message.template,
        "step": message.step,
        "obligation": obligation,
        "recipient": message.recipient_email,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "next_attempt_at": iso_paris(message.next_attempt_at),
        "sent_at": iso_paris(message.sent_at),
        "escalated_at": iso_paris(message.escalated_at),
    }


def incident_view(incident: "IncidentRow", obligations: "list[ObligationRow]", now: "pendulum.DateTime",
                  messages: "list[MessageRow] | None" = None) -> dict[str, Any]:
    """An incident as `--json` (and the portal's API) gives it, as of `now`; its messages when given."""
    view = {
        "ref": incident.ref,
        "status": incident.status,
        "title": incident.title,
        "declared_by": incident.declared_by,
        "municipality": incident.municipality_insee,
        "aware_at": iso_paris(incident.aware_at),
        "occurred_at": iso_paris(incident.occurred_at),
        "declared_at": iso_paris(incident.declared_at),
        "categories": incident.categories,
        "personal_data": incident.personal_data,
        "scope": incident.scope,
        "scope_status": incident.scope_status.value if incident.scope_status else None,
        "scope_reason": incident.scope_reason,
        "closed_at": iso_paris(incident.closed_at),
        "dismissed_at": iso_paris(incident.dismissed_at),
        "acknowledgement": {"at": iso_paris(incident.acknowledged_at), "by": incident.acknowledged_by},
        "obligations": [obligation_view(obligation, now) for obligation in obligations],
    }
    if messages is not None:
        kinds: dict[int | None, str] = {obligation.id: obligation.kind for obligation in obligations}
        view["messages"] = [message_view(message, kinds.get(message.obligation_id)) for message in messages]
    return view


def readable_views(store: "PlainStore", reader: "Person", now: "pendulum.DateTime") -> list[dict[str, Any]]:
    """The view of every incident `reader` may read, oldest first (`list`, and the portal's API)."""
    from models.plain_reads import readable_incident_rows, readable_obligations

    obligations = readable_obligations(store, reader)
    return [incident_view(incident, obligations.get(incident.id, []), now)
            for incident in readable_incident_rows(store, reader)]


def full_view(store: "PlainStore", incident: "IncidentRow", now: "pendulum.DateTime") -> dict[str, Any]:
    """One incident's view with its messages (`show`, and the portal's API)."""
    from models.plain_reads import messages_of, obligations_of

    return incident_view(incident, obligations_of(store, incident.id), now, messages_of(store, incident.id))


STATUS_LABELS = {status.value: label for status, label in OBLIGATION_STATUS_LABELS.items()}  # as every output says
INCIDENT_STATUS_LABELS = {state.value: label for state, label in INCIDENT_STATE_LABELS.items()}
KIND_LABELS = {kind.value: rule.label[0].upper() + rule.label[1:] for kind, rule in CLOCK_RULES.items()}
ENTRY_LABELS = {kind.value: label for kind, label in ENTRY_KIND_LABELS.items()}


# Labels the policy tables do not have yet (to move beside their values in policy/).
CNIL_CHOICES = {"yes": "notifier la CNIL", "no": "ne pas la notifier"}
FORMAT_LABELS = {"text": "texte, pour le terminal", "jsonl": "JSON, une entrée par ligne",
                 "csv": "tableur (CSV)", "html": "page web", "json": "JSON", "md": "Markdown", "pdf": "document PDF"}


def formats_help(formats: type[StrEnum]) -> str:
    return choices_help({choice.value: FORMAT_LABELS.get(choice.value, choice.value) for choice in formats})


def watch_step_text(step: dict[str, Any]) -> str:
    """A step a pass took or would take: « INC-2026-0001 — notification à la CNIL : échéance dépassée (étapes
    sautées : rappel à 50 % du délai, …) »."""
    kind = step["obligation"]
    what = CLOCK_RULES[ObligationKind(kind)].label if kind in set(ObligationKind) else \
        "accusé de réception de l'alerte" if kind == "acknowledgement" else "obligation"
    done = "relance" if step["step"] == "reminder" and kind == "acknowledgement" else step_label(step["step"])
    skipped = step.get("skipped") or []
    later = f" (étapes sautées : {', '.join(step_label(name) for name in skipped)})" if skipped else ""
    return f"{step['ref']} — {what} : {done}{later}"


def decimal(value: float) -> str:
    """A score as a French reader writes it: 3,75."""
    return f"{value:g}".replace(".", ",")


def scope_text(scope: str | None) -> str:
    return SCOPE_LABELS[Scope(scope)] if scope else "pas encore proposée"
