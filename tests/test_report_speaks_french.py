"""What a reader reads in a report carries no code of the engine: the values of every enum of policy/ and models/
(and the codes of templates, categories and watchdog steps) never appear as words in the human text of the steering
report, the audit file, the register and the timeline. Helpers here are shared by the other tests/test_report_*."""

import enum
import importlib
import io
import pkgutil
import re
from html.parser import HTMLParser

from models.outbox import TEMPLATE_LABELS
from policy.scope import CATEGORIES

# Values that are also ordinary French words: « rapport final », « triage », « il met », « il sent ».
FRENCH_WORDS = {"final", "triage", "met", "sent", "infrastructure"}


def _enum_values() -> set[str]:
    values: set[str] = set()
    for package in ("policy", "models"):
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            module = importlib.import_module(f"{package}.{info.name}")
            for thing in vars(module).values():
                if isinstance(thing, type) and issubclass(thing, enum.Enum) and thing.__module__ == module.__name__:
                    values |= {member.value for member in thing if isinstance(member.value, str)}
    return values


CODES = sorted((_enum_values() | set(TEMPLATE_LABELS) | set(CATEGORIES)) - FRENCH_WORDS)
STEP_CODE = re.compile(r"\b(?:reminder|escalation|overdue)_\d+\b")


class _Text(HTMLParser):
    """The text a reader sees: element contents (chart text included), not tags, attributes or style sheets."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "metadata"):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "metadata"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def internal_codes(text: str) -> list[str]:
    """The engine's codes found as whole words in a reader's text (e-mail addresses set aside)."""
    text = re.sub(r"\S+@\S+", " ", text)
    found = {code for code in CODES if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text)}
    return sorted(found | set(STEP_CODE.findall(text)))


def test_the_code_finder_finds_codes_and_spares_french():
    assert {"academy", "shared", "municipality", "pending", "closed", "very_high", "deadline_escalation",
            "cross_party_alert", "vendor"} <= set(CODES)
    assert internal_codes("academy : 1 · shared : 3 ; very_high, reminder_50") == [
        "academy", "reminder_50", "shared", "very_high"]
    assert internal_codes("Rapport final, par referent-ent@villers-les-exemple.example.org ; tri des DPD.") == []
