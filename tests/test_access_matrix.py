"""The access matrix, written out by hand as the spec a reviewer reads, independently of policy/transitions.py:
every command × every role × own commune / other commune / académie, each tried through the real door on an
incident of commune A in the state the command needs, then rolled back. Reading: a commune sees its own only."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import pytest
import yaml

from flows.steps import deliver_due
from models.breach_input import parse_assessment
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
    ProposeScope,
    Redraft,
    RuleOutPersonalData,
    SetPersonalData,
    Triage,
)
from models.db import session_scope
from models.declaration import parse_declaration
from models.door import ENGINE, execute
from models.errors import NotFound, Refused
from models.incident import Incident
from models.queries import readable_incident, readable_incidents
from policy.parties import Party
from policy.scope import Scope
from settings.parties import load_parties
from tests.conftest import BASE_DECLARATION

A, B = "54999", "57999"
WHERE = ("own", "other", "academy")  # relative to the incident's commune A
ROLES = {"academy": ("triager", "dpd", "auditor", "steering", "admin"),
         "own": ("referent", "dpd", "auditor", "steering", "admin"),
         "other": ("referent", "dpd", "auditor", "steering", "admin")}

# THE SPEC: who may make each command on an incident of commune A (declared by A, shared scope, CNIL notified by
# the académie), as (role, where). Everything else is refused.
ALLOWED: dict[str, set[tuple[str, str]]] = {
    "declare": {("referent", "own"), ("triager", "academy")},  # for itself: the académie files as the académie
    "triage": {("triager", "academy")},
    "acknowledge": {("triager", "academy"), ("dpd", "academy")},  # the académie was alerted
    "acknowledge, alert from the académie": {("referent", "own"), ("dpd", "own")},  # the commune was alerted
    "follow-up": {("triager", "academy")},  # shared scope: the académie handles it
    "follow-up, commune handles": {("referent", "own")},  # municipality scope
    "close": {("triager", "academy")},
    "close, commune handles": {("referent", "own")},
    "dismiss": {("triager", "academy")},
    "personal-data": {("triager", "academy"), ("dpd", "academy"), ("referent", "own"), ("dpd", "own")},
    "personal-data no": {("dpd", "academy")},  # ruling a breach out is the notifying party's DPD's alone
    "assess": {("dpd", "academy"), ("dpd", "own")},
    "decide": {("dpd", "academy")},
    "drafts": {("dpd", "academy")},
    "cnil-filed": {("dpd", "academy")},
    "subjects-informed": {("dpd", "academy"), ("triager", "academy")},
}

T0 = pendulum.datetime(2026, 11, 2, 10, 0, tz="Europe/Paris").in_timezone("UTC")
ASSESSMENT = {"data_types": ["behavioural"], "ease_of_identification": "maximum", "confidentiality": "limited",
              "nature": "Messages exposés.", "consequences": "Atteinte à la vie privée.", "measures": "Accès coupé."}


def email(role: str, where: str) -> str:
    return f"{role}@{where}.example.org"


def parties_file(folder: Path) -> Path:
    def people(where: str) -> list[dict[str, object]]:
        return [{"name": f"{role} {where}", "email": email(role, where), "roles": [role]} for role in ROLES[where]]

    def commune(insee: str, where: str, school: str) -> dict[str, object]:
        return {"insee": insee, "name": f"Commune {where}", "referent_contacts": people(where)[:1],
                "escalation_contacts": [{"name": "Maire", "email": f"maire@{where}.example.org"}],
                "schools": [{"uai": school, "name": "École"}], "people": people(where)[1:]}

    config = {"academy": {"name": "Académie", "mail_from": "robot@academy.example.org",
                          "alert_contacts": people("academy")[:1],
                          "dpd_contacts": [{"name": "DPD", "email": email("dpd", "academy"), "roles": ["dpd"]}],
                          "escalation_contacts": [{"name": "DSI", "email": "dsi@academy.example.org"}],
                          "people": [p for p in people("academy") if p["email"] != email("dpd", "academy")][1:]},
              "municipalities": [commune(A, "own", "0549001A"), commune(B, "other", "0579001C")]}
    path = folder / "parties.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


class World:
    """Incidents of commune A in each state a command needs, built through the real door."""

    def __init__(self) -> None:
        self.parties = load_parties()
        self.referent = self.parties.person(email("referent", "own"))
        self.triager = self.parties.person(email("triager", "academy"))
        self.dpd = self.parties.person(email("dpd", "academy"))

    def declaration(self, by_academy: bool = False, **changes: object) -> Declare:
        raw = {**BASE_DECLARATION, "municipality": A, "aware_at": T0.subtract(hours=1).isoformat(),
               "reporter": {"name": "Référent", "email": "referent@own.example.org"},
               "declared_by": "academy" if by_academy else "municipality", **changes}
        return Declare(parse_declaration(raw, self.parties, T0))

    def incident(self, by_academy: bool = False, delivered: bool = False, **changes: object) -> str:
        actor = self.triager if by_academy else self.referent
        with session_scope() as session:
            incident = execute(session, self.declaration(by_academy, **changes), actor, T0, self.parties)
            execute(session, ProposeScope(incident_id=incident.id), ENGINE, T0, self.parties)
            ref = incident.ref
        if delivered:
            asyncio.run(deliver_due(T0.add(minutes=1)))
        return str(ref)

    def breach(self, decided: bool = False) -> str:
        ref = self.incident(personal_data="unknown", categories=["vendor", "personal_data"])
        with session_scope() as session:
            execute(session, Assess(ref=ref, document=parse_assessment(ASSESSMENT)), self.dpd,
                    T0.add(hours=1), self.parties)
            if decided:
                execute(session, Decide(ref=ref, cnil="yes", subjects="yes", rationale="Par prudence."), self.dpd,
                        T0.add(hours=2), self.parties)
        return ref


def scenarios(world: World) -> dict[str, Callable[[Any], Any]]:
    """For each command of the spec, the command itself, on an incident in the state it needs."""
    open_ref = world.incident(personal_data="unknown", categories=["vendor", "personal_data"])
    shared_quiet = world.incident(delivered=True, categories=["governance"])
    commune_quiet = world.incident(delivered=True, categories=["infrastructure"])
    from_academy = world.incident(by_academy=True)
    assessed, decided = world.breach(), world.breach(decided=True)
    later = T0.add(hours=3)
    report = {"done": "Correctif appliqué.", "planned": "Surveillance.", "impact": "Aucun."}
    closure = {"summary": "Résolu.", "measures": "Correctif."}
    return {
        "declare": lambda actor: world.declaration(by_academy=actor.party is Party.ACADEMY),
        "triage": lambda _: Triage(ref=open_ref, scope=Scope.SHARED),
        "acknowledge": lambda _: Acknowledge(ref=open_ref),
        "acknowledge, alert from the académie": lambda _: Acknowledge(ref=from_academy),
        "follow-up": lambda _: FollowUp(ref=open_ref, content=report),
        "follow-up, commune handles": lambda _: FollowUp(ref=commune_quiet, content=report),
        "close": lambda _: Close(ref=shared_quiet, content=closure),
        "close, commune handles": lambda _: Close(ref=commune_quiet, content=closure),
        "dismiss": lambda _: Dismiss(ref=shared_quiet, reason="Doublon"),
        "personal-data": lambda _: SetPersonalData(ref=open_ref, value="yes", aware_at=T0),
        "personal-data no": lambda _: RuleOutPersonalData(ref=open_ref, value="no", aware_at=T0, reason="Aucune."),
        "assess": lambda _: Assess(ref=open_ref, document=parse_assessment(ASSESSMENT)),
        "decide": lambda _: Decide(ref=assessed, cnil="yes", subjects="yes", rationale="Par prudence."),
        "drafts": lambda _: Redraft(ref=assessed, mail=("Projets", "Texte", "<p>Texte</p>")),
        "cnil-filed": lambda _: FileCnil(ref=decided, filed_at=later, reference="CNIL-1"),
        "subjects-informed": lambda _: InformSubjects(ref=decided, informed_at=later, channel="ENT"),
    } | {"_now": lambda _: later}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("INCIDENTS_CONFIG", str(parties_file(tmp_path)))
    return World()


def test_every_command_by_every_role_from_every_party_matches_the_spec(world: World) -> None:
    built = scenarios(world)
    now = built.pop("_now")(None)
    assert set(built) == set(ALLOWED)
    differences, cases = [], 0
    for command_name, make in built.items():
        for where in WHERE:
            for role in ROLES[where]:
                actor = world.parties.person(email(role, where))
                assert actor is not None
                cases += 1
                expected = (role, where) in ALLOWED[command_name]
                with session_scope() as session:
                    try:
                        execute(session, make(actor), actor, now, world.parties)  # type: ignore[arg-type]
                        allowed, why = True, ""
                    except (Refused, NotFound) as error:
                        allowed, why = False, str(error)
                    session.rollback()  # each case starts from the same store
                if allowed != expected:
                    differences.append(f"{command_name} by {role} ({where}): {'allowed' if allowed else why}")
    print(f"access matrix: {cases} cases through the door, {len(differences)} differences")
    assert cases == len(ALLOWED) * 15
    assert differences == []


def test_the_engine_commands_refuse_every_person_and_person_commands_refuse_the_engine(world: World) -> None:
    ref = world.incident()
    for where in WHERE:
        for role in ROLES[where]:
            actor = world.parties.person(email(role, where))
            with pytest.raises((Refused, NotFound)), session_scope() as session:
                execute(session, ProposeScope(ref=ref), actor, T0, world.parties)  # type: ignore[arg-type]
    with pytest.raises(Refused, match="une personne doit agir"), session_scope() as session:
        execute(session, Triage(ref=ref, scope=Scope.SHARED), ENGINE, T0, world.parties)


def test_a_commune_reads_its_own_incidents_only(world: World) -> None:
    own_ref = world.incident()
    other = world.parties.person(email("referent", "other"))
    with session_scope() as session:
        declared = execute(session, Declare(parse_declaration(
            {**BASE_DECLARATION, "municipality": B, "aware_at": T0.subtract(hours=1).isoformat()},
            world.parties, T0)), other, T0, world.parties)
        other_ref = declared.ref
    seen = {}
    for where in WHERE:
        for role in ROLES[where]:
            reader = world.parties.person(email(role, where))
            assert reader is not None
            with session_scope() as session:
                seen[(role, where)] = {i.ref for i in readable_incidents(session, reader)}
                if where == "other":
                    with pytest.raises(NotFound):
                        readable_incident(session, own_ref, reader)
    assert {key: refs for key, refs in seen.items() if key[1] == "academy"} == \
        {(role, "academy"): {own_ref, other_ref} for role in ROLES["academy"]}
    assert {key: refs for key, refs in seen.items() if key[1] == "own"} == \
        {(role, "own"): {own_ref} for role in ROLES["own"]}
    assert {key: refs for key, refs in seen.items() if key[1] == "other"} == \
        {(role, "other"): {other_ref} for role in ROLES["other"]}


def test_a_mismatched_incident_is_answered_as_missing_to_another_commune(world: World) -> None:
    ref = world.incident()
    outsider = world.parties.person(email("referent", "other"))
    with pytest.raises(NotFound, match="Aucun incident"), session_scope() as session:
        execute(session, FollowUp(ref=ref, content={"done": "x", "planned": "y", "impact": "z"}), outsider,
                T0, world.parties)  # type: ignore[arg-type]
    with session_scope() as session:
        assert session.get(Incident, 1) is not None
