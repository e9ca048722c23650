"""A seeded data set built through the real commands: dozens of incidents across communes and scopes, on-time and
late alerts, notified and not-notified breaches, triage overrides, a dismissal, closures and watchdog steps."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
import yaml

from tests.conftest import Cli, write_declaration

DPD = "dpd@ac-nancy-metz.example.org"
COMMUNES = ("54999", "57999", "88999")
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
        path = write_declaration(folder, f"d{i}.yaml", municipality=COMMUNES[i % 3], categories=CATEGORIES[i % 6],
                                 declared_by="academy" if academy else "municipality", personal_data=personal,
                                 aware_at=at.subtract(hours=20 * (i % 4)).isoformat(),
                                 data_subjects={"pupils": 30 + i} if personal != "no" else None,
                                 **({"reporter": reporter} if reporter else {}))
        view = json.loads(run(cli, "declare", str(path), "--json", "--at", at.isoformat()).stdout)
        ref = view["ref"]
        seeded.refs.append(ref)
        if i % 6 == 2:
            run(cli, "triage", ref, "--scope", "academy", "--reason", "Comptes de personnels touchés",
                "--at", at.add(hours=1).isoformat())
        if personal != "no":
            run(cli, "assess", ref, "--file", str(assessment), "--by", DPD, "--at", at.add(hours=2).isoformat())
            if i % 10 == 0:
                run(cli, "decide", ref, "--cnil", "yes", "--subjects", "no", "--by", DPD, "--rationale",
                    "Risque non élevé pour les personnes.", "--at", at.add(hours=3).isoformat())
                # Half of the filings fall after the 72 hours.
                filed = at.add(hours=24) if i % 20 == 0 else at.add(hours=90)
                run(cli, "cnil-filed", ref, "--at", filed.isoformat(), "--reference", f"CNIL-{i}")
            elif i % 10 == 1:
                run(cli, "decide", ref, "--cnil", "no", "--subjects", "no", "--by", DPD, "--rationale",
                    "Aucun accès constaté dans les journaux.", "--at", at.add(hours=3).isoformat())
            elif i % 10 == 6:
                run(cli, "decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD, "--rationale",
                    "Plus prudent.", "--at", at.add(hours=3).isoformat())
                run(cli, "cnil-filed", ref, "--at", at.add(hours=30).isoformat(), "--reference", f"CNIL-{i}")
                run(cli, "subjects-informed", ref, "--at", at.add(hours=40).isoformat(), "--channel", "ENT")
        if i % 7 == 3:
            run(cli, "dismiss", ref, "--reason", "Hors ENT", "--at", at.add(hours=5).isoformat())
        elif personal == "no" and i % 3 == 0:
            run(cli, "close", ref, "--file", str(closure), "--at", at.add(days=1).isoformat())
    run(cli, "watch", "--at", FIRST.add(days=50).isoformat())
    return seeded
