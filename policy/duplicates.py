"""RG-DUP-01: a declaration that likely repeats another, so that the académie can set it aside (Art. 4: each party
alerts once; two alerts about one incident waste the other party's 48 hours). Likely means: the same commune,
awareness within three days of each other, and titles that say nearly the same thing. A warning, never a refusal:
two incidents in one commune in one week do happen."""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher

from policy.transitions import IncidentState

WINDOW_HOURS = 72
SIMILARITY = 0.75  # SequenceMatcher's ratio over the normalised titles


@dataclass(frozen=True)
class Declared:
    ref: str
    insee: str
    aware_at: datetime
    title: str
    status: str


def _normalised(title: str) -> str:
    """Lower case, accents and punctuation gone: « Messagerie ENT : accès ! » and « messagerie ent acces » match."""
    letters = unicodedata.normalize("NFKD", title.casefold())
    plain = "".join(char if char.isalnum() else " " for char in letters if not unicodedata.combining(char))
    return " ".join(plain.split())


def similar_titles(first: str, second: str) -> bool:
    return SequenceMatcher(None, _normalised(first), _normalised(second)).ratio() >= SIMILARITY


def is_likely_duplicate(candidate: Declared, other: Declared) -> bool:
    # An incident already set aside is no original to compare with, nor one to warn about.
    return (other.ref != candidate.ref and IncidentState.DISMISSED not in (other.status, candidate.status)
            and other.insee == candidate.insee
            and abs((candidate.aware_at - other.aware_at).total_seconds()) <= WINDOW_HOURS * 3600
            and similar_titles(candidate.title, other.title))


NAMED = 3  # a warning names this many earlier declarations at most: enough to find the original


def likely_duplicates(candidate: Declared, others: Iterable[Declared], limit: int | None = None) -> list[str]:
    """The references `candidate` likely repeats, oldest first; the first `limit` only, when given (comparing
    titles costs: a burst of look-alike declarations in one commune must not cost each mail a pass over all)."""
    found: list[str] = []
    for other in others:
        if limit is not None and len(found) >= limit:
            break
        if is_likely_duplicate(candidate, other):
            found.append(other.ref)
    return found


def duplicate_warning(refs: list[str], more: bool = False) -> str:
    """What the declarant and the triager read about a likely duplicate: the first few it resembles (`more`: the
    search stopped there, and there may be others)."""
    shown = refs[:NAMED]
    named = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " et " + shown[-1]
    if len(refs) > NAMED:
        named = f"{named} (et {len(refs) - NAMED} autres)"
    if more or len(refs) > NAMED:
        named = f"notamment {named}"
    return (f"Attention : cette déclaration ressemble à {named} (même commune, prise de connaissance à moins de "
            f"{WINDOW_HOURS} heures d'écart, intitulé proche). S'il s'agit du même incident, la cellule sécurité "
            "de l'académie pourra écarter le doublon.")
