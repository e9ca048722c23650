"""What a message of the outbox is, and where its delivery stands, with the French label of each (read by the
commands and the reports without loading the store)."""

from enum import StrEnum


class MessageStatus(StrEnum):
    PENDING = "pending"  # waiting to be rendered or delivered
    SENDING = "sending"  # claimed by a delivery attempt; reclaimed when its lease expires
    SENT = "sent"
    CANCELLED = "cancelled"  # no longer wanted: its incident was dismissed, or the obligation it recalls was met
    REFUSED = "refused"  # the relay refused it for good (an SMTP 5xx reply, or too large): never retried


MESSAGE_STATUS_LABELS: dict[str, str] = {MessageStatus.PENDING: "en attente", MessageStatus.SENDING: "en cours d'envoi",
                                         MessageStatus.SENT: "remis", MessageStatus.CANCELLED: "annulé",
                                         MessageStatus.REFUSED: "refusé définitivement"}
UNKNOWN_STATUS_LABEL = "état inconnu (écrit hors de la porte unique)"  # a value no code writes: say it, don't crash


def message_status_label(status: str) -> str:
    return MESSAGE_STATUS_LABELS.get(status, UNKNOWN_STATUS_LABEL)
# What each message is, as a reader names it.
TEMPLATE_LABELS: dict[str, str] = {
    "cross_party_alert": "alerte de l'autre partie", "declaration_receipt": "accusé d'enregistrement au déclarant",
    "acknowledgement_reminder": "relance de l'accusé de réception", "deadline_step": "rappel ou avis d'échéance",
    "follow_up": "point de suivi", "final_report": "rapport final", "delivery_failure": "avis d'échec de remise",
    "delivery_recovered": "avis de remise rétablie", "breach_drafts": "projets de notification, au DPD",
    "steering_report": "rapport au comité de pilotage", "sign_in_link": "lien de connexion au portail",
}
UNDELIVERED = (MessageStatus.PENDING, MessageStatus.SENDING)
