"""The JSON API: the same commands and reads as the pages, for machine clients with a personal access token
(`Authorization: Bearer …`). Field names are those of the CLI's documents (YAML or JSON)."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from cli.views import full_view, readable_views
from flows.drafting import decide_and_draft
from models.breach_input import parse_assessment
from models.clock import parse_instant
from models.commands import (
    Acknowledge,
    Assess,
    Close,
    Decide,
    Declare,
    Dismiss,
    FileCnil,
    FollowUp,
    InformSubjects,
    RuleOutPersonalData,
    SetPersonalData,
    Triage,
)
from models.declaration import parse_declaration
from models.door import run
from models.driver import plain_store_of
from models.errors import FieldError, InvalidInput
from models.gate import readable_commune
from models.plain_reads import readable_incident_row
from models.queries import readable_incident, require_whole_store
from models.reports_input import parse_closure, parse_follow_up
from models.timeline import verify_chain
from policy.scope import Scope
from portal.delivery import hand_over_soon
from portal.web import now, parties, read, signed_in
from rendering.rows import timeline_rows
from reports import register as breach_register

router = APIRouter(prefix="/api/v1", tags=["incidents"])
Document = Annotated[dict[str, Any], Body()]


def _bearer(request: Request) -> Any:
    if not request.headers.get("authorization", "").lower().startswith("bearer "):
        from portal.web import SignInRequired

        raise SignInRequired
    return signed_in(request)


def _field(document: dict[str, Any], name: str, required: bool = True) -> Any:
    """A text field of the body: missing (when required) or not a text is refused, naming it."""
    value = document.get(name)
    if required and (value is None or value == ""):
        raise InvalidInput([FieldError(name, "champ obligatoire manquant")])
    if value is not None and not isinstance(value, str):
        raise InvalidInput([FieldError(name, "doit être un texte")])
    return value


def _instant(document: dict[str, Any], name: str) -> Any:
    value = document.get(name)
    if value is None:
        return now()
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput([FieldError(name, "doit être une date ISO 8601 avec décalage horaire")])
    return parse_instant(value, name)


def _done(ref: str) -> JSONResponse:
    return JSONResponse({"ref": ref, "ok": True})


@router.get("/incidents", summary="Les incidents que vous pouvez consulter")
def list_incidents(request: Request) -> list[dict[str, Any]]:
    person = _bearer(request)
    return read(lambda session: readable_views(plain_store_of(session), person, now()))  # type: ignore[no-any-return]


@router.post("/incidents", status_code=201, summary="Déclarer un incident (mêmes champs que le fichier YAML)")
def declare(request: Request, document: Document) -> dict[str, Any]:
    person = _bearer(request)
    incident = run(Declare(parse_declaration(document, parties(), now())), person, now())
    hand_over_soon("intake", incident.id, incident.ref)
    return {"ref": incident.ref, "status": incident.status}


@router.get("/incidents/{ref}", summary="Un incident, ses obligations et ses messages")
def show(request: Request, ref: str) -> dict[str, Any]:
    person = _bearer(request)

    def view(session: Any) -> dict[str, Any]:
        store = plain_store_of(session)
        return full_view(store, readable_incident_row(store, ref, person), now())

    return read(view)  # type: ignore[no-any-return]


@router.get("/incidents/{ref}/timeline", summary="La chronologie d'un incident")
def timeline(request: Request, ref: str) -> list[dict[str, Any]]:
    person = _bearer(request)
    return read(lambda session: timeline_rows(session, readable_incident(session, ref, person),  # type: ignore
                                              readable_commune(person)))


@router.post("/incidents/{ref}/acknowledge", summary="Accuser réception de l'alerte")
def acknowledge(request: Request, ref: str) -> JSONResponse:
    run(Acknowledge(ref=ref), _bearer(request), now())
    return _done(ref)


@router.post("/incidents/{ref}/triage", summary="Arrêter la portée (scope, reason)")
def triage(request: Request, ref: str, document: Document) -> JSONResponse:
    person = _bearer(request)
    scope = _field(document, "scope")
    if scope not in {s.value for s in Scope}:
        raise InvalidInput([FieldError("scope", "valeur non reconnue (valeurs possibles : academy, shared, "
                                                "municipality)")])
    run(Triage(ref=ref, scope=Scope(scope), reason=_field(document, "reason", required=False)), person, now())
    return _done(ref)


@router.post("/incidents/{ref}/follow-up", summary="Point de suivi (done, planned, impact)")
def follow_up(request: Request, ref: str, document: Document) -> JSONResponse:
    return _reported(request, ref, lambda: FollowUp(ref=ref, content=parse_follow_up(document)))


@router.post("/incidents/{ref}/close", summary="Clore (summary, measures, root_cause, residual_risk)")
def close(request: Request, ref: str, document: Document) -> JSONResponse:
    return _reported(request, ref, lambda: Close(ref=ref, content=parse_closure(document)))


def _reported(request: Request, ref: str, command: Callable[[], FollowUp | Close]) -> JSONResponse:
    """A report through the door, then its mails handed to the service (as `incidents follow-up` and `close` do)."""
    person = _bearer(request)
    run(command(), person, now())
    hand_over_soon("dispatch", read(lambda session: readable_incident(session, ref, person).id), ref)
    return _done(ref)


@router.post("/incidents/{ref}/dismiss", summary="Classer sans suite (reason)")
def dismiss(request: Request, ref: str, document: Document) -> JSONResponse:
    run(Dismiss(ref=ref, reason=_field(document, "reason")), _bearer(request), now())
    return _done(ref)


@router.post("/incidents/{ref}/personal-data", summary="Données personnelles : value (yes, no, unknown), aware_at, "
                                                        "reason")
def personal_data(request: Request, ref: str, document: Document) -> JSONResponse:
    person = _bearer(request)
    value = _field(document, "value")
    command = RuleOutPersonalData if value == "no" else SetPersonalData
    run(command(ref=ref, value=value, aware_at=_instant(document, "aware_at"),
                reason=_field(document, "reason", required=False)), person, now())
    return _done(ref)


@router.post("/incidents/{ref}/assessment", summary="Évaluation de la gravité (mêmes champs que le fichier YAML)")
def assessment(request: Request, ref: str, document: Document) -> dict[str, Any]:
    _, advice = run(Assess(ref=ref, document=parse_assessment(document)), _bearer(request), now())
    return advice.summary()


@router.post("/incidents/{ref}/decision", summary="Décision du DPD (cnil, subjects, exemption, rationale, "
                                                   "delay_reasons)")
def decision(request: Request, ref: str, document: Document) -> JSONResponse:
    person = _bearer(request)
    drafted = decide_and_draft(Decide(
        ref=ref, cnil=_field(document, "cnil"), subjects=_field(document, "subjects"),
        exemption=_field(document, "exemption", required=False),
        rationale=_field(document, "rationale", required=False),
        delay_reasons=_field(document, "delay_reasons", required=False)), person, now())
    if drafted.files:
        hand_over_soon("dispatch", drafted.incident_id, ref)
    return _done(ref)


@router.post("/incidents/{ref}/cnil-filing", summary="Dépôt auprès de la CNIL (reference, filed_at, complementary)")
def cnil_filing(request: Request, ref: str, document: Document) -> JSONResponse:
    run(FileCnil(ref=ref, filed_at=_instant(document, "filed_at"), reference=_field(document, "reference"),
                 complementary=bool(document.get("complementary"))), _bearer(request), now())
    return _done(ref)


@router.post("/incidents/{ref}/subjects-informed", summary="Information des personnes (channel, informed_at)")
def subjects_informed(request: Request, ref: str, document: Document) -> JSONResponse:
    run(InformSubjects(ref=ref, informed_at=_instant(document, "informed_at"), channel=_field(document, "channel")),
        _bearer(request), now())
    return _done(ref)


@router.get("/register", summary="Registre des violations (les vôtres pour une commune)")
def register(request: Request) -> list[dict[str, Any]]:
    person = _bearer(request)
    return read(lambda session: breach_register.register_rows(session, person))  # type: ignore[no-any-return]


@router.get("/chain", summary="État de la chaîne de la chronologie")
def chain(request: Request) -> dict[str, Any]:
    require_whole_store(_bearer(request), "l'état de la chaîne")
    report = read(verify_chain)
    return {"ok": report.ok, "entries": report.entries, "head_hash": report.head_hash,
            "first_bad_seq": report.first_bad_seq, "problem": report.problem}
