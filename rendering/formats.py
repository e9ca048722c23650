"""French formats shared by every output: instants in Paris time, durations, counts of people."""

from datetime import UTC, datetime
from typing import Any

import pendulum

from policy.clocks import PARIS_ZONE, paris

SUBJECT_LABELS = {"pupils": ("élève", "élèves"), "staff": ("personnel", "personnels"), "parents": ("parent", "parents")}


DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTH_NAMES = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
               "novembre", "décembre")


def paris_datetime(value: datetime | str | None) -> str:
    """An instant as a French reader expects it, in Paris time: « vendredi 20 novembre 2026 à 10h00 (heure de
    Paris) ». Written without pendulum's formatter: a report may show thousands of them."""
    if value is None:
        return "date non précisée"
    if isinstance(value, str):
        value = _parsed(value)
    local = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(PARIS_ZONE)
    day = "1er" if local.day == 1 else str(local.day)  # « le 1er octobre », as French writes it
    return (f"{DAY_NAMES[local.weekday()]} {day} {MONTH_NAMES[local.month - 1]} {local.year} à "
            f"{local.hour:02d}h{local.minute:02d} (heure de Paris)")


def _parsed(text: str) -> datetime:
    """ISO 8601 text as an instant (without an offset, in UTC); pendulum for the forms the stdlib does not read."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        parsed = pendulum.parse(text)
        assert isinstance(parsed, pendulum.DateTime)
        return parsed


def paris_date(value: datetime | None) -> str:
    """The day of an instant in Paris, as a letter writes it: « vendredi 27 novembre 2026 », « 1er décembre »."""
    if value is None:
        return "date non précisée"
    local = paris(pendulum.instance(value))
    day = "1er" if local.day == 1 else str(local.day)
    return local.format(f"dddd [{day}] MMMM YYYY", locale="fr")


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


def grouped(number: int) -> str:
    """10000000 as French writes it: 10 000 000."""
    return f"{number:,}".replace(",", " ")


def decimal(value: object) -> str:
    """A score as French writes it: 1,25 and 1, rather than 1.25 and 1.0, to every digit a float holds (a score of
    2.9999999 written beside the door is not shown as 3). Anything else as it is: a value written beside the door is
    shown, for the audit to name, not a page that fails."""
    return f"{value:.15g}".replace(".", ",") if isinstance(value, int | float) else str(value)


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """« 1 incident », « 3 incidents », « 0 échec », « 120 120 entrées »: French takes the singular for 0 and 1."""
    return f"{grouped(count)} {singular if abs(count) <= 1 else plural or singular + 's'}"


def of_place(name: str) -> str:
    """« de Villers-lès-Exemple », « d'Épinal »: French elides « de » before a vowel or a mute h."""
    return f"d'{name}" if name[:1].lower() in "aâàeéèêëiîïoôuûüyh" and name else f"de {name}"


def sentence_case(value: str) -> str:
    """The first letter upper case, the rest as written (« CNIL » stays upper case, unlike Jinja's `capitalize`)."""
    return value[:1].upper() + value[1:]


def iso(value: Any) -> str | None:
    """An instant as machines read it in our outputs: ISO 8601 in Paris time."""
    return paris(pendulum.instance(value)).isoformat() if value is not None else None


def subjects_text(data_subjects: dict[str, int]) -> list[str]:
    """« 27 élèves », « 1 personnel »: each group of people concerned, counted the French way (0 and 1 singular)."""
    return [f"{count} {SUBJECT_LABELS[key][0 if count <= 1 else 1]}" for key, count in data_subjects.items()]
