"""Walkers: move an incident forward through the real commands, so every test object has a real history."""

import json
from pathlib import Path
from typing import Any

from tests.conftest import REFERENT, TRIAGER, Cli, write_declaration


def declared(cli: Cli, folder: Path, at: str = "2026-11-28T10:00:00+01:00", by: str | None = None,
             **changes: Any) -> dict[str, Any]:
    """Declare through `incidents declare --json`, by the commune's referent (or the académie's triager for an
    académie declaration); returns what the command printed."""
    by = by or (TRIAGER if changes.get("declared_by") == "academy" else REFERENT)
    result = cli("declare", str(write_declaration(folder, **changes)), "--json", "--by", by, "--at", at)
    assert result.exit_code == 0, result.output
    view: dict[str, Any] = json.loads(result.stdout)
    return view


def shown(cli: Cli, ref: str, at: str | None = None) -> dict[str, Any]:
    result = cli("show", ref, "--json", *(["--at", at] if at else []))
    assert result.exit_code == 0, result.output
    view: dict[str, Any] = json.loads(result.stdout)
    return view


def timeline_of(cli: Cli, ref: str) -> list[dict[str, Any]]:
    result = cli("timeline", ref, "--json")
    assert result.exit_code == 0, result.output
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    return entries


def obligation(view: dict[str, Any], kind: str = "cross_party_alert") -> dict[str, Any]:
    """The one obligation of that kind an incident view lists (the open one, for recurring follow-ups)."""
    matching = [o for o in view["obligations"] if o["kind"] == kind]
    return matching[-1]
