"""The DPD's pages: personal data or not, the assessment (the ENISA computation and the EDPB's criteria, shown as
the facts change), the decision with its rationale, the drafts to read and download, the CNIL filing and the
information of the people."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from flows.drafting import decide_and_draft
from models.breach_input import AssessmentDocument, LetterDocument, parse_assessment, parse_letter
from models.breach_lifecycle import advice_for
from models.breach_reads import latest_assessment
from models.commands import Assess, Decide, FileCnil, InformSubjects, RuleOutPersonalData, SetPersonalData
from models.door import run
from models.errors import InvalidInput, Refused
from models.queries import readable_incident
from policy.recommendation import Advice
from policy.severity import (
    DATA_CATEGORY_LABELS,
    DATA_FATE_LABELS,
    DATA_TYPE_LABELS,
    EI_LABELS,
    LEVEL_LABELS,
    RECOMMENDATION_LABELS,
)
from portal.delivery import hand_over_soon
from portal.forms import PostedForm, field_errors, required_instant, text
from portal.views import incident_page
from portal.web import attachment_disposition, check_csrf, now, parties, read, render, signed_in
from settings.env import var_dir

router = APIRouter(include_in_schema=False)

CHOICES = {
    "data_types": DATA_TYPE_LABELS,
    "data_categories": DATA_CATEGORY_LABELS,
    "ease_of_identification": EI_LABELS,
    "confidentiality": {"none": "aucune perte", "limited": "limitée (un tiers non autorisé, sans diffusion)",
                        "wide": "étendue (diffusion, publication)"},
    "integrity": {"none": "aucune atteinte", "recoverable": "altération réparable", "unrecoverable":
                  "altération irréparable"},
    "availability": {"none": "aucune perte", "temporary": "indisponibilité temporaire",
                     "permanent": "perte définitive"},
    "data_fate": DATA_FATE_LABELS,
    "backup_restored": {"yes": "oui, depuis une sauvegarde", "no": "non : pas de sauvegarde utilisable"},
}
YES_NO_FIELDS = ("malicious", "unintelligible", "trusted_recipient", "data_retrieved", "malicious_insider",
                 "critical_service")
NUMBER_FIELDS = ("people_concerned", "unavailable_hours", "tolerable_hours")


DRAFT_TYPES = {".odt": "application/vnd.oasis.opendocument.text",
               ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               ".txt": "text/plain; charset=utf-8"}
LIST_FIELDS = ("data_types", "data_categories")
# The letter's parts on the decision form, by the name of their field in the letter document.
LETTER_FIELDS = {"what_happened": "letter_what_happened", "what_it_means": "letter_what_it_means",
                 "what_to_do": "letter_what_to_do", "contact": "letter_contact", "channel": "letter_channel"}


def _drafts(ref: str) -> list[str]:
    """The drafts kept for the incident, newest first: editable (.odt, .docx) and plain text."""
    folder = var_dir() / "drafts" / ref
    return sorted((p.name for p in folder.iterdir() if p.suffix in DRAFT_TYPES), reverse=True) \
        if folder.is_dir() else []


def _page(request: Request, ref: str, errors: dict[str, str], values: dict[str, Any], status: int = 200,
          preview: Advice | None = None, refusal: str = "") -> Response:
    person = signed_in(request)
    page = read(lambda session: incident_page(session, readable_incident(session, ref, person), now(), parties(),
                                              person))
    return render(request, "breach.html.j2", {"incident": page, "errors": errors, "values": values,
                                              "refusal": refusal,
                                              "factor_choices": CHOICES, "drafts": _drafts(ref), "preview": preview,
                                              "level_labels": LEVEL_LABELS,
                                              "recommendation_labels": RECOMMENDATION_LABELS,
                                              "done": request.query_params.get("fait", "")[:40]}, status=status)


@router.get("/incidents/{ref}/violation")
def breach_page(request: Request, ref: str) -> Response:
    person = signed_in(request)
    return _page(request, ref, {}, read(lambda session: _last_assessment(session, ref, person)))


def _last_assessment(session: Any, ref: str, person: Any) -> dict[str, Any]:
    """The form starts from the latest assessment: revising it changes a factor, not everything."""
    assessment = latest_assessment(session, readable_incident(session, ref, person))
    if assessment is None:
        return {"data_types": []}
    factors = assessment.factors
    yes = {True: "yes", False: ""}
    return {"data_types": list(factors.get("data_types", [])), "data_categories": list(assessment.data_categories),
            **{key: factors.get(key) or "" for key in ("ease_of_identification", "confidentiality", "integrity",
                                                        "availability", "data_fate")},
            **{key: yes[bool(factors.get(key))] for key in YES_NO_FIELDS},
            **{key: _number_text(factors.get(key)) for key in NUMBER_FIELDS},
            "backup_restored": {True: "yes", False: "no", None: ""}[factors.get("backup_restored")],
            "nature": assessment.nature, "consequences": assessment.consequences, "measures": assessment.measures}


def _number_text(value: Any) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _refused(request: Request, ref: str, form: FormData, error: InvalidInput | Refused,
             fields: dict[str, str] | None = None) -> Response:
    """The same page again, what was typed kept, the refusal beside its field or at the top."""
    if isinstance(error, InvalidInput):
        errors = {(fields or {}).get(name, name): message for name, message in field_errors(error).items()}
        return _page(request, ref, errors, _values(form), status=400)
    return _page(request, ref, {}, _values(form), status=403, refusal=str(error))


def _assessment(form: FormData, preview: bool = False) -> AssessmentDocument:
    """The assessment as filed; for the live preview, the free texts (not part of the score) may still be empty."""
    raw: dict[str, Any] = {key: text(form, key) for key in ("ease_of_identification", "confidentiality", "integrity",
                                                             "availability", "nature", "consequences", "measures")}
    raw.update({key: text(form, key) for key in NUMBER_FIELDS + ("data_fate",) if text(form, key)})
    if preview:
        raw.update({key: raw[key] or "-" for key in ("nature", "consequences", "measures")})
    raw["data_types"] = form.getlist("data_types")
    raw["data_categories"] = form.getlist("data_categories")
    raw.update({key: text(form, key) == "yes" for key in YES_NO_FIELDS})
    if text(form, "backup_restored") in ("yes", "no"):
        raw["backup_restored"] = text(form, "backup_restored") == "yes"
    if text(form, "vulnerable_subjects") in ("yes", "no"):
        raw["vulnerable_subjects"] = text(form, "vulnerable_subjects") == "yes"
    for key in ("confidentiality", "integrity", "availability"):
        raw[key] = raw[key] or "none"
    return parse_assessment(raw)


def _values(form: FormData) -> dict[str, Any]:
    return {key: form.getlist(key) if key in LIST_FIELDS else text(form, key) for key in form}


def _letter(form: FormData) -> LetterDocument | None:
    """The letter to the people concerned as the DPD wrote it on the form; None when left blank."""
    raw = {name: text(form, field) for name, field in LETTER_FIELDS.items() if text(form, field)}
    return parse_letter(raw) if raw else None


@router.post("/incidents/{ref}/violation/apercu")
def preview(request: Request, ref: str, form: PostedForm) -> Response:
    """The ENISA computation for the factors as they stand, without recording anything (the form's live panel)."""
    person = signed_in(request)
    check_csrf(request, form)
    read(lambda session: readable_incident(session, ref, person))  # another commune's: as if it did not exist
    panel_only = request.headers.get("x-apercu") == "1"  # the script's request; without it, the whole page
    try:
        document_ = _assessment(form, preview=True)
    except InvalidInput as error:
        if not panel_only:
            return _page(request, ref, field_errors(error), _values(form), status=400)
        return render(request, "_severity.html.j2", {"preview": None, "errors": field_errors(error),
                                                     "level_labels": LEVEL_LABELS})
    advice = read(lambda session: advice_for(document_, readable_incident(session, ref, person), parties()))
    if not panel_only:
        return _page(request, ref, {}, _values(form), preview=advice)
    return render(request, "_severity.html.j2", {"preview": advice, "errors": {}, "level_labels": LEVEL_LABELS})


@router.post("/incidents/{ref}/donnees-personnelles")
def personal_data(request: Request, ref: str, form: PostedForm) -> Response:
    person = signed_in(request)
    check_csrf(request, form)
    value = text(form, "personal_data")
    try:
        aware_at = required_instant(form, "breach_aware_at", "la prise de connaissance de la violation")
        command = RuleOutPersonalData if value == "no" else SetPersonalData
        run(command(ref=ref, value=value, aware_at=aware_at, reason=text(form, "personal_data_reason") or None),
            person, now())
    except (InvalidInput, Refused) as error:
        return _refused(request, ref, form, error, {"reason": "personal_data_reason", "aware_at": "breach_aware_at",
                                                     "value": "personal_data"})
    return RedirectResponse(f"/incidents/{ref}/violation?fait=donnees", status_code=303)


@router.post("/incidents/{ref}/evaluation")
def assessment(request: Request, ref: str, form: PostedForm) -> Response:
    person = signed_in(request)
    check_csrf(request, form)
    try:
        run(Assess(ref=ref, document=_assessment(form)), person, now())
    except (InvalidInput, Refused) as error:
        return _refused(request, ref, form, error)
    incident_id = read(lambda session: readable_incident(session, ref, person).id)
    from cli.orchestration import trigger_if_served

    trigger_if_served("breach-decision", incident_id, ref, None)
    return RedirectResponse(f"/incidents/{ref}/violation?fait=evaluation", status_code=303)


@router.post("/incidents/{ref}/decision")
def decision(request: Request, ref: str, form: PostedForm) -> Response:
    person = signed_in(request)
    check_csrf(request, form)
    try:
        drafted = decide_and_draft(Decide(ref=ref, cnil=text(form, "cnil"), subjects=text(form, "subjects"),
                                          exemption=text(form, "exemption") or None,
                                          rationale=text(form, "rationale") or None,
                                          delay_reasons=text(form, "delay_reasons") or None,
                                          letter=_letter(form)), person, now())
    except (InvalidInput, Refused) as error:
        return _refused(request, ref, form, error, LETTER_FIELDS)
    from cli.orchestration import resume_paused_decision

    if drafted.decision_id is not None:
        resume_paused_decision(ref, drafted.decision_id)
    if drafted.files:
        hand_over_soon("dispatch", drafted.incident_id, ref)
    return RedirectResponse(f"/incidents/{ref}/violation?fait=decision", status_code=303)


@router.post("/incidents/{ref}/cnil")
def cnil_filed(request: Request, ref: str, form: PostedForm) -> Response:
    person = signed_in(request)
    check_csrf(request, form)
    try:
        filed_at = required_instant(form, "filed_at", "la date du dépôt")
        run(FileCnil(ref=ref, filed_at=filed_at, reference=text(form, "reference"),
                     complementary=text(form, "complementary") == "yes"), person, now())
    except (InvalidInput, Refused) as error:
        return _refused(request, ref, form, error)
    return RedirectResponse(f"/incidents/{ref}/violation?fait=cnil", status_code=303)


@router.post("/incidents/{ref}/personnes-informees")
def subjects_informed(request: Request, ref: str, form: PostedForm) -> Response:
    person = signed_in(request)
    check_csrf(request, form)
    try:
        informed_at = required_instant(form, "informed_at", "la date de l'information")
        run(InformSubjects(ref=ref, informed_at=informed_at, channel=text(form, "channel")), person, now())
    except (InvalidInput, Refused) as error:
        return _refused(request, ref, form, error)
    return RedirectResponse(f"/incidents/{ref}/violation?fait=personnes", status_code=303)


@router.get("/incidents/{ref}/projets/{name}")
def download_draft(request: Request, ref: str, name: str) -> Response:
    person = signed_in(request)
    read(lambda session: readable_incident(session, ref, person))  # another commune's: as if it did not exist
    if name not in _drafts(ref):
        return render(request, "error.html.j2", {"title": "Projet introuvable",
                                                 "message": "Aucun projet de cet incident ne porte ce nom."},
                      status=404)
    path: Path = var_dir() / "drafts" / ref / name
    return Response(path.read_bytes(), media_type=DRAFT_TYPES[path.suffix],
                    headers={"x-incidents-document": "1", "content-disposition": attachment_disposition(name)})
