"""Commands on personal-data breaches: personal-data, assess, decide, drafts, cnil-filed, subjects-informed,
register (GDPR Art. 33 and 34; convention Art. 4.2).

The store, the drafting flow and the renderers are imported inside each command: see cli/app.py on start-up."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.app import AtOption, ByOption, JsonOption, RefArgument, act, app, emit_json, instant, person, user_errors
from cli.french import choices_help
from cli.orchestration import Handover, hand_over, resume_paused_decision, trigger_if_served
from cli.views import CNIL_CHOICES, decimal, formats_help
from policy.scope import PERSONAL_DATA_LABELS
from policy.severity import LEVEL_LABELS
from rendering.describe import EXEMPTION_LABELS, SUBJECTS_DECIDED


class RegisterFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    HTML = "html"


@app.command("personal-data")
def personal_data(ref: RefArgument,
                  value: Annotated[str, typer.Option("--value", help=f"{choices_help(PERSONAL_DATA_LABELS)}.")],
                  aware_at: Annotated[str, typer.Option("--aware-at", help="Prise de connaissance de la violation "
                                                                           "(ISO 8601 avec décalage).")],
                  reason: Annotated[str | None, typer.Option("--reason", help="Pourquoi (obligatoire pour « no » : "
                                                                              "les délais CNIL sont levés).")] = None,
                  by: ByOption = None, at: AtOption = None) -> None:
    """Indiquer si des données personnelles sont concernées : « yes » ou « unknown » ouvre le délai CNIL de 72 h ;
    « no » le lève, avec un motif, et revient au DPD de la partie qui notifie la CNIL."""
    from models.clock import parse_instant
    from models.commands import RuleOutPersonalData, SetPersonalData

    with user_errors():
        command = RuleOutPersonalData if value == "no" else SetPersonalData
        act(command(ref=ref, value=value, aware_at=parse_instant(aware_at, "--aware-at"), reason=reason), by, at)
    typer.echo(f"Données personnelles de {ref} : {PERSONAL_DATA_LABELS.get(value, value)}.")


@app.command()
def assess(ref: RefArgument,
           file: Annotated[Path, typer.Option("--file", help="Évaluation YAML (score ENISA et critères du CEPD).")],
           as_json: JsonOption = False, by: ByOption = None, at: AtOption = None) -> None:
    """Évaluer une violation (score ENISA et critères du CEPD) et recommander une décision."""
    from cli.files import read_document
    from models.breach_input import parse_assessment
    from models.commands import Assess
    from models.db import read_scope
    from models.queries import readable_incident

    with user_errors():
        document = parse_assessment(read_document(file))
        _, advice = act(Assess(ref=ref, document=document), by, at)
        with read_scope() as session:
            incident_id = readable_incident(session, ref, person(by)).id
    assert incident_id is not None
    severity = advice.severity
    triggered = trigger_if_served("breach-decision", incident_id, ref, at)
    if as_json:
        emit_json(advice.summary())
        return
    typer.echo(f"Évaluation de {ref} : DPC {severity.dpc}, EI {decimal(severity.ei)}, CB {decimal(severity.cb)}, "
               f"SE {decimal(severity.se)} (gravité {LEVEL_LABELS[severity.level]}).")
    for reason in advice.reasons:
        typer.echo(f"  - {reason}")
    if triggered:
        typer.echo("Le déroulé Prefect de la décision attend la décision du DPD (« incidents decide »).")


@app.command()
def decide(ref: RefArgument,
           cnil: Annotated[str, typer.Option("--cnil", help=f"Notifier la CNIL : {choices_help(CNIL_CHOICES)}.")],
           subjects: Annotated[str, typer.Option("--subjects", help="Informer les personnes concernées : "
                                                                    f"{choices_help(SUBJECTS_DECIDED)}.")],
           by: ByOption = None,
           exemption: Annotated[str | None, typer.Option("--exemption", help=f"Exemption invoquée (RGPD "
                                                          f"art. 34(3)) : {choices_help(EXEMPTION_LABELS)}.")] = None,
           rationale: Annotated[str | None, typer.Option("--rationale", help="Motivation de la décision.")] = None,
           delay_reasons: Annotated[str | None, typer.Option("--delay-reasons", help="Motifs du retard (art. "
                                                                                      "33(1)).")] = None,
           decided_at: Annotated[str | None, typer.Option("--decided-at", help="Quand la décision a été prise, si "
                                                          "c'était avant de l'enregistrer (ISO 8601 avec décalage) ; "
                                                          "par défaut : maintenant.")] = None,
           letter: Annotated[Path | None, typer.Option("--letter", help="Lettre aux personnes concernées, en mots "
                                                       "simples (YAML, champs what_happened, what_it_means, "
                                                       "what_to_do, contact et channel ; voir "
                                                       "examples/letter.yaml).")] = None,
           at: AtOption = None) -> None:
    """Décision du DPD : notifier la CNIL ou non, informer les personnes concernées, ou invoquer une exemption."""
    from cli.files import read_document
    from flows.drafting import decide_and_draft
    from models.breach_input import parse_letter
    from models.clock import event_time
    from models.commands import Decide

    with user_errors():
        now, actor = instant(at), person(by)
        written = parse_letter(read_document(letter)) if letter else None
        drafted = decide_and_draft(Decide(ref=ref, cnil=cnil, subjects=subjects, exemption=exemption,
                                          rationale=rationale, delay_reasons=delay_reasons,
                                          decided_at=event_time(decided_at, "--decided-at", now), letter=written),
                                   actor, now)
    typer.echo(f"Décision enregistrée pour {ref}.")
    for path in drafted.files:
        typer.echo(f"Projet écrit : {path}")
    assert drafted.decision_id is not None
    resume_paused_decision(ref, drafted.decision_id)
    if drafted.files and hand_over("dispatch", drafted.incident_id, ref, at) is Handover.QUEUED:
        typer.echo("Les projets seront envoyés au DPD par la prochaine passe du moteur.")


@app.command()
def drafts(ref: RefArgument, complementary: Annotated[bool, typer.Option("--complementary", help="Notification "
                                                                 "complémentaire (RGPD art. 33(4)).")] = False,
           by: ByOption = None, at: AtOption = None) -> None:
    """Écrire à nouveau les projets (notification CNIL, lettre aux personnes) et les envoyer au DPD."""
    from flows.drafting import redraft

    with user_errors():
        drafted = redraft(ref, complementary=complementary, actor=person(by), now=instant(at))
    for path in drafted.files:
        typer.echo(f"Projet écrit : {path}")
    hand_over("dispatch", drafted.incident_id, ref, at)


@app.command("cnil-filed")
def cnil_filed(ref: RefArgument,
               reference: Annotated[str, typer.Option("--reference", help="Référence CNIL du dépôt.")],
               filed_at: Annotated[str | None, typer.Option("--filed-at", help="Quand le dépôt a été fait (ISO 8601 "
                                                                              "avec décalage) ; par défaut : "
                                                                              "maintenant.")] = None,
               complementary: Annotated[bool, typer.Option("--complementary", help="Notification complémentaire "
                                                           "(RGPD art. 33(4)).")] = False,
               by: ByOption = None, at: AtOption = None) -> None:
    """Enregistrer la notification déposée auprès de la CNIL (initiale ou complémentaire)."""
    from models.clock import event_time
    from models.commands import FileCnil

    with user_errors():
        now = instant(at)
        act(FileCnil(ref=ref, filed_at=event_time(filed_at, "--filed-at", now), reference=reference,
                     complementary=complementary), by, at)
    typer.echo(f"Notification {'complémentaire ' if complementary else ''}à la CNIL enregistrée pour {ref}.")


@app.command("subjects-informed")
def subjects_informed(ref: RefArgument,
                      channel: Annotated[str, typer.Option("--channel", help="Moyen (courrier, ENT, affichage…).")],
                      informed_at: Annotated[str | None, typer.Option("--informed-at", help="Quand les personnes ont "
                                                                      "été informées ; par défaut : maintenant.")]
                      = None,
                      by: ByOption = None, at: AtOption = None) -> None:
    """Enregistrer l'information des personnes concernées (RGPD art. 34)."""
    from models.clock import event_time
    from models.commands import InformSubjects

    with user_errors():
        now = instant(at)
        act(InformSubjects(ref=ref, informed_at=event_time(informed_at, "--informed-at", now), channel=channel),
            by, at)
    typer.echo(f"Information des personnes concernées enregistrée pour {ref}.")


@app.command()
def register(fmt: Annotated[RegisterFormat, typer.Option("--format", help=f"{formats_help(RegisterFormat)}.")] =
             RegisterFormat.HTML, by: ByOption = None, at: AtOption = None) -> None:
    """Registre des violations (RGPD, article 33(5)) : toutes, notifiées ou non (une commune : les siennes)."""
    from models.db import read_scope
    from reports import register as breach_register
    from settings.parties import load_parties

    with user_errors():
        now, reader = instant(at, writes=False), person(by)
        with read_scope() as session:
            rows = breach_register.register_rows(session, reader)
        typer.echo(breach_register.render(rows, fmt.value, load_parties().academy.name, now))
