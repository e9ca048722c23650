"""A seeded data set built through the real commands: dozens of incidents across communes and scopes, on-time and
late alerts, notified and not-notified breaches, triage overrides, a dismissal, closures and watchdog steps."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
import pytest
import yaml

from tests.conftest import AUDITOR, DPD, TRIAGER, Cli, write_declaration

COMMUNES = ("54999", "57999", "88999")
REFERENTS = {"54999": "referent-ent@villers-les-exemple.example.org",  # who declares and follows up for each commune
             "57999": "numerique@montigny-sur-exemple.example.org",
             "88999": "mairie@saint-exemple.example.org"}
CATEGORIES = (["vendor"], ["directory"], ["governance"], ["minor_protection", "infrastructure"], ["availability"],
              ["users_staff"])
ASSESSMENT = {"data_types": ["behavioural"], "ease_of_identification": "maximum", "confidentiality": "limited",
              "nature": "Messages d'élèves exposés.", "consequences": "Atteinte à la vie privée.",
              "measures": "Accès coupé, mots de passe réinitialisés."}
CLOSURE = {"summary": "Incident résolu.", "measures": "Correctif appliqué."}
FIRST = pendulum.datetime(2026, 10, 5, 10, 0, tz="Europe/Paris")


@dataclass
class Seeded:
    refs: list[str] = field(default_factory=list)


@contextmanager
def module_store(folder: Path) -> Iterator[None]:
    """A store of its own under `folder` for a module's fixture, marked as a simulation (as every test store,
    tests/conftest.py), set in the environment for the block."""
    with pytest.MonkeyPatch.context() as patch:
        use_store(patch, folder)
        patch.delenv("INCIDENTS_SMTP_HOST", raising=False)
        from models.db import session_scope
        from models.store_mode import mark_as_simulation

        with session_scope() as session:
            mark_as_simulation(session)
        yield


def use_store(patch: pytest.MonkeyPatch, folder: Path) -> None:
    """Point the commands at the store and var/ folder under `folder`."""
    patch.setenv("INCIDENTS_VAR_DIR", str(folder / "var"))
    patch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{folder / 'incidents.db'}")


def run(cli: Cli, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.output)
    return result


def seed(cli: Cli, folder: Path, count: int = 24) -> Seeded:
    seeded = Seeded()
    assessment = folder / "assessment.yaml"
    assessment.write_text(yaml.safe_dump(ASSESSMENT, allow_unicode=True), encoding="utf-8")
    closure = folder / "closure.yaml"
    closure.write_text(yaml.safe_dump(CLOSURE, allow_unicode=True), encoding="utf-8")
    for i in range(count):
        at = FIRST.add(days=2 * i)
        academy = i % 2 == 1
        personal = {0: "unknown", 1: "yes"}.get(i % 5, "no")
        reporter = {"name": "RSSI", "email": "rssi@ac-nancy-metz.example.org"} if academy else None
        commune = COMMUNES[i % 3]
        declarant = TRIAGER if academy else REFERENTS[commune]
        path = write_declaration(folder, f"d{i}.yaml", municipality=commune, categories=CATEGORIES[i % 6],
                                 declared_by="academy" if academy else "municipality", personal_data=personal,
                                 aware_at=at.subtract(hours=20 * (i % 4)).isoformat(),
                                 data_subjects={"pupils": 30 + i} if personal != "no" else None,
                                 **({"reporter": reporter} if reporter else {}))
        view = json.loads(run(cli, "declare", str(path), "--json", "--by", declarant, "--at", at.isoformat()).stdout)
        ref = view["ref"]
        seeded.refs.append(ref)
        if i % 6 == 2:
            # Overridden to the académie, unless a (possible) breach keeps it at least shared (Art. 8; RGPD art. 26).
            run(cli, "triage", ref, "--scope", "academy" if personal == "no" else "shared", "--reason",
                "Comptes de personnels touchés", "--by", TRIAGER, "--at", at.add(hours=1).isoformat())
        if personal != "no":
            run(cli, "assess", ref, "--file", str(assessment), "--by", DPD, "--at", at.add(hours=2).isoformat())
            if i % 10 == 0:
                run(cli, "decide", ref, "--cnil", "yes", "--subjects", "no", "--by", DPD, "--rationale",
                    "Risque non élevé pour les personnes.", "--at", at.add(hours=3).isoformat())
                # Half of the filings fall after the 72 hours.
                filed = at.add(hours=24) if i % 20 == 0 else at.add(hours=90)
                run(cli, "cnil-filed", ref, "--filed-at", filed.isoformat(), "--reference", f"CNIL-{i}",
                    "--by", DPD, "--at", filed.isoformat())
            elif i % 10 == 1:
                run(cli, "decide", ref, "--cnil", "no", "--subjects", "no", "--by", DPD, "--rationale",
                    "Aucun accès constaté dans les journaux.", "--at", at.add(hours=3).isoformat())
            elif i % 10 == 6:
                run(cli, "decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD, "--rationale",
                    "Plus prudent.", "--at", at.add(hours=3).isoformat())
                run(cli, "cnil-filed", ref, "--filed-at", at.add(hours=30).isoformat(), "--reference", f"CNIL-{i}",
                    "--by", DPD, "--at", at.add(hours=30).isoformat())
                run(cli, "subjects-informed", ref, "--informed-at", at.add(hours=40).isoformat(), "--channel", "ENT",
                    "--by", DPD, "--at", at.add(hours=40).isoformat())
        if i % 7 == 3:
            run(cli, "dismiss", ref, "--reason", "Hors ENT", "--by", TRIAGER, "--at", at.add(hours=5).isoformat())
        elif personal == "no" and i % 3 == 0:
            # Closed by the party handling the incident: the owner of its follow-up.
            shown = json.loads(run(cli, "show", ref, "--json", "--by", AUDITOR).stdout)
            [handler] = {o["owner"] for o in shown["obligations"] if o["kind"] == "follow_up"}
            closer = TRIAGER if handler == "academy" else REFERENTS[commune]
            run(cli, "close", ref, "--file", str(closure), "--by", closer, "--at", at.add(days=1).isoformat())
    run(cli, "watch", "--at", FIRST.add(days=50).isoformat())
    return seeded
