"""Commands on personal-data breaches: personal-data, assess, decide, drafts, cnil-filed, subjects-informed,
register (GDPR Art. 33 and 34; convention Art. 4.2)."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.app import AtOption, JsonOption, app, emit_json, instant, user_errors
from cli.files import read_document
from cli.orchestration import Handover, hand_over, resume_paused_decision, trigger_if_served
from flows.drafting import decide_and_draft, redraft
from models import breach_lifecycle
from models.breach_input import parse_assessment
from models.db import session_scope
from models.journal import get_incident
from reports import register as breach_register
from settings.parties import load_parties

ByOption = Annotated[str, typer.Option("--by", help="Qui agit (adresse électronique).")]


class RegisterFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    HTML = "html"


@app.command("personal-data")
def personal_data(ref: str, value: Annotated[str, typer.Option("--value", help="yes, no ou unknown.")],
                  aware_at: Annotated[str, typer.Option("--aware-at", help="Prise de connaissance de la violation "
                                                                           "(ISO 8601 avec décalage).")],
                  by: ByOption = "académie", at: AtOption = None) -> None:
    """Indiquer que des données personnelles sont (ou peuvent être) concernées : ouvre le délai CNIL de 72 h."""
    with user_errors():
        now = instant(at)
        with session_scope() as session:
            breach_lifecycle.set_personal_data(session, get_incident(session, ref), value,
                                               instant(aware_at, "--aware-at"), by, load_parties(), now)
    typer.echo(f"Données personnelles de {ref} : {value}.")


@app.command()
def assess(ref: str, file: Annotated[Path, typer.Option("--file", help="Évaluation YAML (méthode ENISA).")],
           as_json: JsonOption = False, by: ByOption = "DPD", at: AtOption = None) -> None:
    """Évaluer la gravité d'une violation (ENISA : SE = DPC × EI + CB) et recommander une décision."""
    with user_errors():
        now = instant(at)
        document = parse_assessment(read_document(file))
        with session_scope() as session:
            incident = get_incident(session, ref)
            _, severity = breach_lifecycle.record_assessment(session, incident, document, by, load_parties(), now)
    assert incident.id is not None
    result = {"dpc": severity.dpc, "ei": severity.ei, "cb": severity.cb, "se": severity.se,
              "level": severity.level.value, "recommendation": severity.recommendation.value,
              "reasons": list(severity.reasons)}
    triggered = trigger_if_served("breach-decision", incident.id, ref, at)
    if as_json:
        emit_json(result)
        return
    typer.echo(f"Évaluation de {ref} : DPC {severity.dpc}, EI {severity.ei:g}, CB {severity.cb:g}, "
               f"SE {severity.se:g} ({severity.level.value}).")
    for reason in severity.reasons:
        typer.echo(f"  - {reason}")
    if triggered:
        typer.echo("Le formulaire de décision du DPD attend dans l'interface Prefect.")


@app.command()
def decide(ref: str,
           cnil: Annotated[str, typer.Option("--cnil", help="Notifier la CNIL : yes ou no.")],
           subjects: Annotated[str, typer.Option("--subjects", help="Informer les personnes : yes, no ou exempt.")],
           by: Annotated[str, typer.Option("--by", help="Le DPD qui décide (contact DPD configuré).")],
           exemption: Annotated[str | None, typer.Option("--exemption", help="encryption, measures ou "
                                                                              "disproportionate.")] = None,
           rationale: Annotated[str | None, typer.Option("--rationale", help="Motivation de la décision.")] = None,
           delay_reasons: Annotated[str | None, typer.Option("--delay-reasons", help="Motifs du retard (art. "
                                                                                      "33(1)).")] = None,
           at: AtOption = None) -> None:
    """Décision du DPD : notifier la CNIL ou non, informer les personnes concernées, ou invoquer une exemption."""
    with user_errors():
        now = instant(at)
        drafted = decide_and_draft(ref, cnil=cnil, subjects=subjects, exemption=exemption, rationale=rationale,
                                   by=by, delay_reasons=delay_reasons, now=now)
    typer.echo(f"Décision enregistrée pour {ref}.")
    for path in drafted.files:
        typer.echo(f"Projet écrit : {path}")
    resume_paused_decision(ref, {"cnil": cnil, "subjects": subjects, "exemption": exemption,
                                 "rationale": rationale or "", "by": by, "delay_reasons": delay_reasons or ""})
    if drafted.files and hand_over("dispatch", drafted.incident_id, ref, at) is Handover.QUEUED:
        typer.echo("Les projets seront envoyés au DPD par la prochaine passe du moteur.")


@app.command()
def drafts(ref: str, complementary: Annotated[bool, typer.Option("--complementary", help="Notification "
                                                                 "complémentaire (RGPD art. 33(4)).")] = False,
           at: AtOption = None) -> None:
    """Écrire à nouveau les projets (notification CNIL, lettre aux personnes) et les envoyer au DPD."""
    with user_errors():
        drafted = redraft(ref, complementary=complementary, now=instant(at))
    for path in drafted.files:
        typer.echo(f"Projet écrit : {path}")
    hand_over("dispatch", drafted.incident_id, ref, at)


@app.command("cnil-filed")
def cnil_filed(ref: str, at: Annotated[str, typer.Option("--at", help="Date du dépôt (ISO 8601 avec décalage).")],
               reference: Annotated[str, typer.Option("--reference", help="Référence CNIL du dépôt.")],
               complementary: Annotated[bool, typer.Option("--complementary")] = False,
               by: ByOption = "DPD") -> None:
    """Enregistrer la notification déposée auprès de la CNIL (initiale ou complémentaire)."""
    with user_errors():
        filed_at = instant(at)
        with session_scope() as session:
            breach_lifecycle.record_cnil_filing(session, get_incident(session, ref), filed_at=filed_at,
                                                reference=reference, complementary=complementary, by=by,
                                                now=instant(None))
    typer.echo(f"Notification {'complémentaire ' if complementary else ''}à la CNIL enregistrée pour {ref}.")


@app.command("subjects-informed")
def subjects_informed(ref: str, at: Annotated[str, typer.Option("--at", help="Date de l'information.")],
                      channel: Annotated[str, typer.Option("--channel", help="Moyen (courrier, ENT, affichage…).")],
                      by: ByOption = "DPD") -> None:
    """Enregistrer l'information des personnes concernées (RGPD art. 34)."""
    with user_errors():
        informed_at = instant(at)
        with session_scope() as session:
            breach_lifecycle.record_subjects_informed(session, get_incident(session, ref), informed_at=informed_at,
                                                      channel=channel, by=by, now=instant(None))
    typer.echo(f"Information des personnes concernées enregistrée pour {ref}.")


@app.command()
def register(fmt: Annotated[RegisterFormat, typer.Option("--format", help="csv, json ou html.")] =
             RegisterFormat.HTML, at: AtOption = None) -> None:
    """Registre des violations (RGPD art. 33(5)) : toutes, notifiées ou non."""
    with user_errors():
        now = instant(at)
        with session_scope() as session:
            rows = breach_register.register_rows(session)
        typer.echo(breach_register.render(rows, fmt.value, load_parties().academy.name, now))
