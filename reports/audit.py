"""One incident's audit file: scope proposed and confirmed, obligations, messages, assessment and decision, and
the proof (the chain verified up to this incident's last entry, with its hash)."""

import re
from typing import TYPE_CHECKING, Any

import pendulum
from sqlmodel import Session, col, func, select

from models.attachments import unfaithful_files
from models.attestation import discrepancies, misfiled_entries
from models.breach import Assessment, CnilFiling, Decision, SubjectsNotice
from models.breach_reads import personal_data_now
from models.gate import readable_commune
from models.incident import Incident
from models.outbox import TEMPLATE_LABELS, OutboxMessage
from models.queries import own_entries, readable_refs, reads_everything
from models.timeline import ChainHead, TimelineEntry, verify_chain
from policy.messages import message_status_label
from policy.parties import Party
from policy.scope import CATEGORIES, PERSONAL_DATA_LABELS, SCOPE_LABELS, Scope
from policy.severity import LEVEL_LABELS, RECOMMENDATION_LABELS, Level, Recommendation
from policy.transitions import INCIDENT_STATE_LABELS, IncidentState
from rendering.describe import EXEMPTION_LABELS, SUBJECTS_DECIDED, category_label, step_label
from rendering.formats import grouped, iso
from rendering.rows import obligation_rows, timeline_rows

if TYPE_CHECKING:
    from settings.parties import Person


def _entry(session: Session, incident: Incident, kind: str) -> TimelineEntry | None:
    """The latest entry of `kind` that names this incident: one attached to it from another says nothing of it."""
    return next((entry for entry in reversed(own_entries(session, incident)) if entry.kind == kind), None)


CATEGORY_IN_REASON = re.compile(r"« ([a-z_]+) » \(([^()]*)\)")


def readable_reason(reason: str) -> str:
    """A stored scope reason names a category by its code and its label (« vendor » (prestataire…)): a reader
    needs only the label. The stored text stays as it was, in the JSON and on the chain."""
    return CATEGORY_IN_REASON.sub(lambda m: f"« {m[2]} »" if m[1] in CATEGORIES else m[0], reason)


def _tail_missing(session: Session) -> list[str]:
    """The proof above stops at this incident's last entry: whether the chain's head still finds every entry."""
    head = session.get(ChainHead, 1)
    last = session.exec(select(func.max(TimelineEntry.seq))).one() or 0
    if head is None or head.seq == last:
        return []
    return [f"la tête de la chronologie annonce {grouped(head.seq)} entrées, la dernière restante est la n° {last} : "
            "les dernières ont disparu"]


def audit_data(session: Session, incident: Incident, now: pendulum.DateTime, *, reader: "Person",
               with_proof: bool = True) -> dict[str, Any]:
    """Everything an auditor reads of one incident; `with_proof` re-checks the chain up to its last entry (the
    whole chain before it: the portal's incident page leaves it to the audit file)."""
    proposed, confirmed = _entry(session, incident, "scope_proposed"), _entry(session, incident, "scope_confirmed")
    messages = session.exec(select(OutboxMessage).where(OutboxMessage.incident_id == incident.id)
                            .order_by(col(OutboxMessage.id))).all()
    assessments = session.exec(select(Assessment).where(Assessment.incident_id == incident.id)
                               .order_by(col(Assessment.id))).all()
    decision = session.exec(select(Decision).where(Decision.incident_id == incident.id)).first()
    filings = session.exec(select(CnilFiling).where(CnilFiling.incident_id == incident.id)
                           .order_by(col(CnilFiling.filed_at))).all()
    notices = session.exec(select(SubjectsNotice).where(SubjectsNotice.incident_id == incident.id)).all()
    timeline = timeline_rows(session, incident, readable_commune(reader))
    last_seq = timeline[-1]["seq"] if timeline else 0
    proof = verify_chain(session, up_to_seq=last_seq) if with_proof else None
    # The chain vouches for entries; these say whether the records shown below are still the ones it attests.
    differing = discrepancies(session, incident.id) if with_proof else []
    # The incidents its records were moved to, named only if the reader may read them.
    readable = None if reads_everything(reader) else \
        readable_refs(session, reader, {found.now_under for found in differing if found.now_under is not None})
    records = [f"l'entrée n° {seq} est rattachée à cet incident, mais son empreinte en nomme un autre"
               if ref != incident.ref else f"l'entrée n° {seq} de cet incident est rattachée à un autre incident"
               for seq, ref in misfiled_entries(session, incident.id)] + \
        [found.text(readable) for found in differing] + unfaithful_files(session, incident.id) \
        if with_proof else []
    return {
        "ref": incident.ref, "title": incident.title, "status": incident.status,
        "status_label": INCIDENT_STATE_LABELS[IncidentState(incident.status)],
        "declared_by_label": Party(incident.declared_by).label,
        "municipality": incident.municipality_insee, "declared_by": incident.declared_by,
        "aware_at": iso(incident.aware_at), "declared_at": iso(incident.declared_at),
        "categories": incident.categories, "personal_data": incident.personal_data,
        "categories_labels": [category_label(c) for c in incident.categories],
        "personal_data_label": PERSONAL_DATA_LABELS[personal_data_now(session, incident)],
        "scope": {
            "proposed": proposed.payload["scope"] if proposed else None,
            "proposed_label": SCOPE_LABELS[Scope(proposed.payload["scope"])] if proposed else None,
            "proposed_article": proposed.payload["article"] if proposed else None,
            "proposed_reasons": proposed.payload["reasons"] if proposed else [],
            "proposed_reasons_readable": [readable_reason(r) for r in proposed.payload["reasons"]] if proposed else [],
            "confirmed": confirmed.payload["scope"] if confirmed else None,
            "confirmed_label": SCOPE_LABELS[Scope(confirmed.payload["scope"])] if confirmed else None,
            "confirmed_article": confirmed.payload["article"] if confirmed else None,
            "confirmed_reason": confirmed.payload["reason"] if confirmed else None,
            "confirmed_by": confirmed.actor if confirmed else None,
            "confirmed_at": iso(confirmed.occurred_at) if confirmed else None,
        },
        "acknowledgement": {"at": iso(incident.acknowledged_at), "by": incident.acknowledged_by},
        "obligations": obligation_rows(session, incident, now),
        "messages": [{
            "template": m.template, "step": m.step, "recipient": m.recipient_email, "status": m.status,
            "label": TEMPLATE_LABELS.get(m.template, m.template)
                     + (f", {step_label(m.step)}" if m.template == "deadline_step" else ""),
            "status_label": message_status_label(m.status),
            "attempts": m.attempts, "sent_at": iso(m.sent_at), "transport": m.transport,
            "message_id": m.message_id, "last_error": m.last_error,
        } for m in messages],
        "assessments": [{
            "assessed_at": iso(a.assessed_at), "assessed_by": a.assessed_by, "dpc": a.dpc, "ei": a.ei, "cb": a.cb,
            "se": a.se, "level": a.level, "recommendation": a.recommendation, "reasons": a.reasons,
            "level_label": LEVEL_LABELS[Level(a.level)],
            "recommendation_label": RECOMMENDATION_LABELS[Recommendation(a.recommendation)],
            # What decided it (the EDPB's criteria, the nearest published example); empty before they were weighed.
            "basis": list(a.basis.get("lines", []))[1:],
        } for a in assessments],
        "decision": None if decision is None else {
            "decided_at": iso(decision.decided_at), "decided_by": decision.decided_by,
            "notify_cnil": decision.notify_cnil, "subjects": decision.subjects, "exemption": decision.exemption,
            "rationale": decision.rationale, "recommendation": decision.recommendation,
            "against_recommendation": decision.against_recommendation,
            "subjects_label": SUBJECTS_DECIDED.get(decision.subjects, decision.subjects),
            "exemption_label": EXEMPTION_LABELS.get(decision.exemption, decision.exemption)
            if decision.exemption else None,
        },
        "cnil_filings": [{"filed_at": iso(f.filed_at), "reference": f.reference, "complementary": f.complementary}
                         for f in filings],
        "subjects_notices": [{"informed_at": iso(n.informed_at), "channel": n.channel} for n in notices],
        "timeline": timeline,
        "proof": None if proof is None else {
            "chain_ok": proof.ok, "entries_checked": proof.entries, "last_seq": last_seq,
            "last_hash": timeline[-1]["hash"] if timeline else None, "problem": proof.problem,
            "first_bad_seq": proof.first_bad_seq, "records_problems": records,
            # Beyond this incident's last entry: the chain's end, which no record of this incident depends on.
            "later_problems": _tail_missing(session)},
        "generated_at": iso(now),
    }
