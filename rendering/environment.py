"""The one Jinja2 environment of mails, drafts, reports and portal pages, sandboxed: incident text comes from users."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from rendering.formats import counted, decimal, duration_fr, grouped, of_place, paris_datetime, sentence_case
from settings.env import PROJECT_ROOT, templates_override_dir

DEFAULT_TEMPLATES = PROJECT_ROOT / "templates"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


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
    env.filters["sentence"] = sentence_case
    env.filters["counted"] = counted
    env.filters["of_place"] = of_place
    env.filters["grouped"] = grouped
    env.filters["decimal"] = decimal
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
