"""Render messages from Jinja2 templates in a sandbox: incident text comes from users."""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pendulum
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from policy.clocks import paris
from settings.env import PROJECT_ROOT, templates_override_dir

DEFAULT_TEMPLATES = PROJECT_ROOT / "templates"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def paris_datetime(value: datetime | str | None) -> str:
    """An instant as a French reader expects it, in Paris time."""
    if value is None:
        return "non précisée"
    instant = pendulum.parse(value) if isinstance(value, str) else pendulum.instance(value)
    assert isinstance(instant, pendulum.DateTime)
    local = paris(instant)
    day = "1er" if local.day == 1 else str(local.day)  # « le 1er octobre », as French writes it
    return local.format(f"dddd [{day}] MMMM YYYY [à] HH[h]mm", locale="fr") + " (heure de Paris)"


def duration_fr(seconds: int | None) -> str:
    if not seconds:
        return "0 minute"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} jour{'s' if days > 1 else ''}"] if days else []
    parts += [f"{hours} heure{'s' if hours > 1 else ''}"] if hours else []
    parts += [f"{minutes} minute{'s' if minutes > 1 else ''}"] if minutes else []
    return " ".join(parts) or "moins d'une minute"


@lru_cache(maxsize=4)
def _environment(override: Path | None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(str(override))] if override else []
    loaders.append(FileSystemLoader(str(DEFAULT_TEMPLATES)))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        auto_reload=False,  # a running service never mixes templates edited since with its own code
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["paris"] = paris_datetime
    env.filters["duration"] = duration_fr
    return env


def render_document(name: str, context: dict[str, Any]) -> str:
    """Render one document template (a draft, a report page); an académie's override wins."""
    return _environment(templates_override_dir()).get_template(name).render(context)


def render_message(name: str, context: dict[str, Any]) -> RenderedMessage:
    """Render `mail/<name>.subject.txt.j2`, `.txt.j2` and `.html.j2`; an académie's override wins per file."""
    env = _environment(templates_override_dir())
    subject = env.get_template(f"mail/{name}.subject.txt.j2").render(context)
    return RenderedMessage(
        subject=" ".join(subject.split()),
        text=env.get_template(f"mail/{name}.txt.j2").render(context),
        html=env.get_template(f"mail/{name}.html.j2").render(context),
    )
