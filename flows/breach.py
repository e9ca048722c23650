"""The breach-decision flow: when served, it waits for the DPD's decision until shortly before the CNIL deadline,
then sends the drafts. The decision itself is made only through the door, by an identified DPD (`incidents
decide`, later the portal); the paused run is resumed with the id of that recorded decision and nothing else, and
ignores any input that does not name one. Nothing personal travels through Prefect."""

from typing import Any

import pendulum
from prefect import flow, get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import apause_flow_run
from prefect.input import RunInput
from pydantic import Field

from flows import steps
from models import breach_lifecycle
from models.db import session_scope
from models.incident import Incident
from policy.clocks import ObligationKind
from settings.parties import load_parties

MINIMUM_WAIT_SECONDS = 60


class RecordedDecision(RunInput):
    """Décision du DPD déjà enregistrée (« incidents decide ») : son numéro seulement."""

    decision_id: int = Field(description="Numéro de la décision enregistrée par le DPD")


def _waiting_seconds(incident_id: int, now: pendulum.DateTime) -> tuple[int, int | None]:
    """How long to wait, and the id of the incident's recorded decision if there is one."""
    margin = load_parties().breach.decision_margin_hours
    with session_scope() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        decision = breach_lifecycle.decision_of(session, incident)
        cnil = breach_lifecycle.obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
        until = pendulum.instance(cnil.due_at).subtract(hours=margin) if cnil else now.add(hours=24)
        return max(MINIMUM_WAIT_SECONDS, int((until - now).total_seconds())), decision.id if decision else None


@flow(name="breach-decision")
async def breach_decision(incident_id: int, at: str | None = None, poll_interval: int = 10) -> dict[str, Any]:
    """Takes an incident id only; resumed with a decision id only."""
    logger = get_run_logger()
    now = steps.resolve_instant(at)
    timeout, decided = _waiting_seconds(incident_id, now)
    attempt = 0
    while decided is None:
        attempt += 1
        try:
            answer = await apause_flow_run(wait_for_input=RecordedDecision, timeout=timeout,
                                           poll_interval=poll_interval, key=f"decision-{attempt}")
        except FlowPauseTimeout:
            logger.warning("Aucune décision reçue avant la marge de l'échéance CNIL ; le moteur d'échéances relance.")
            return {"status": "timeout"}
        _, decided = _waiting_seconds(incident_id, now)
        if decided is None or answer.decision_id != decided:
            logger.warning("Reprise ignorée : elle ne désigne pas la décision enregistrée de cet incident.")
            decided = None
    await steps.deliver_due(steps.resolve_instant(at), incident_id)
    return {"status": "decided", "decision_id": decided}
