"""The breach-decision flow: when served, it pauses for the DPD's decision with a typed form in the Prefect UI,
until shortly before the CNIL deadline; the CLI's `decide` resumes it, or stands alone."""

from typing import Any, Literal

import pendulum
from prefect import flow, get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import apause_flow_run
from prefect.input import RunInput
from pydantic import Field

from flows import steps
from flows.drafting import decide_and_draft
from models import breach_lifecycle
from models.db import session_scope
from models.errors import InvalidInput, Refused
from models.incident import Incident
from policy.clocks import ObligationKind
from settings.parties import load_parties

MINIMUM_WAIT_SECONDS = 60


class DpdDecision(RunInput):
    """Décision du DPD sur la violation de données (RGPD art. 33 et 34)."""

    cnil: Literal["yes", "no"] = Field(description="Notifier la CNIL ?")
    subjects: Literal["yes", "no", "exempt"] = Field(description="Informer les personnes concernées ?")
    exemption: Literal["encryption", "measures", "disproportionate"] | None = Field(
        default=None, description="Exemption de l'article 34(3), avec « exempt »")
    rationale: str = Field(default="", description="Motivation (obligatoire pour un « non », une exemption ou un "
                                                   "écart à la recommandation)")
    by: str = Field(description="Adresse du DPD qui décide")
    delay_reasons: str = Field(default="", description="Motifs du retard, si la notification est tardive")


def _waiting_seconds(incident_id: int, now: pendulum.DateTime) -> tuple[str, int, bool]:
    margin = load_parties().breach.decision_margin_hours
    with session_scope() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        decided = breach_lifecycle.decision_of(session, incident) is not None
        cnil = breach_lifecycle.obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
        until = pendulum.instance(cnil.due_at).subtract(hours=margin) if cnil else now.add(hours=24)
        return incident.ref, max(MINIMUM_WAIT_SECONDS, int((until - now).total_seconds())), decided


@flow(name="breach-decision")
async def breach_decision(incident_id: int, at: str | None = None, poll_interval: int = 10) -> dict[str, Any]:
    """Takes an incident id only; the DPD's answer comes through Prefect's typed input."""
    logger = get_run_logger()
    now = steps.resolve_instant(at)
    ref, timeout, decided = _waiting_seconds(incident_id, now)
    attempt = 0
    while not decided:
        attempt += 1
        try:
            answer = await apause_flow_run(wait_for_input=DpdDecision, timeout=timeout, poll_interval=poll_interval,
                                           key=f"decision-{attempt}")
        except FlowPauseTimeout:
            logger.warning("Aucune décision reçue avant la marge de l'échéance CNIL ; le moteur d'échéances relance.")
            return {"status": "timeout"}
        try:
            decide_and_draft(ref, cnil=answer.cnil, subjects=answer.subjects, exemption=answer.exemption,
                             rationale=answer.rationale, by=answer.by, delay_reasons=answer.delay_reasons,
                             now=steps.resolve_instant(at))
        except Refused:
            _, _, decided = _waiting_seconds(incident_id, now)
            if decided:
                return {"status": "already_decided"}
            logger.warning("Décision refusée par les contrôles (voir « incidents decide ») ; nouvelle attente.")
            continue
        except InvalidInput:
            logger.warning("Décision incomplète ou invalide ; nouvelle attente.")
            continue
        await steps.deliver_due(steps.resolve_instant(at), incident_id)
        return {"status": "decided"}
    return {"status": "already_decided"}
