"""What a French reader must never meet: an internal code (a value of one of the project's enums or code tables), an
English word of the CLI framework, or a word that is neither in Debian's French dictionary (hunspell-fr) nor in the
project's short word list (tests/french_words.txt: names of places and bodies, acronyms)."""

import enum
import html
import importlib
import pkgutil
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORD_LIST = Path(__file__).with_name("french_words.txt")
FRAMEWORK_WORDS = ("Show this message", "Usage:", "Options", "Commands", "Arguments", "Error:", "Missing argument",
                   "No such option", "Invalid value", "[default", "[required]", "Try '")
# Not prose: addresses, links, references, hashes, instants and numbers, file names a user is told to open.
NOT_PROSE = re.compile(r"https?://\S+|\b[\w.-]+/[\w./+-]+|\b[\w-]+(?:\.[\w-]+)*\.(?:fr|org|com|net|eu)\b|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\bINC-\d{4}-\d{4}\b|\b[0-9a-f]{12,}\b"
                       r"|\b\d{4}-\d{2}-\d{2}T[\d:.+-]+|\b[\w-]+\.(?:ics|csv|jsonl|json|html|pdf|odt|docx|txt|md|eml)\b"
                       r"|(?<!\w)\.(?:ics|csv|jsonl|json|html|pdf|odt|docx|txt|md|eml)\b"
                       r"|\b\d+(?:er|re|e|ème|es)\b|\b\d+(?:[.,]\d+)*\b|\b\d+[A-Z]\b|\b\d{7}[A-Z]\b")


def project_codes() -> set[str]:
    """Every value of every enum in policy/ and models/, and the keys of the code tables users never type."""
    codes: set[str] = set()
    for package in ("policy", "models"):
        for module_info in pkgutil.iter_modules([str(ROOT / package)]):
            module = importlib.import_module(f"{package}.{module_info.name}")
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == module.__name__:
                    # Text codes only: an ordered enum's numbers (policy.breach_criteria.Answer) are no word.
                    codes.update(member.value for member in value if isinstance(member.value, str))
    from models.outbox import TEMPLATE_LABELS
    from policy.scope import CATEGORY_RULES
    from policy.severity import DATA_TYPE_LABELS, EI_LABELS

    codes.update(TEMPLATE_LABELS, (rule.category for rule in CATEGORY_RULES), DATA_TYPE_LABELS, EI_LABELS,
                 ("yes", "no", "unknown"))
    return codes


def hunspell_unknown(words: set[str]) -> set[str]:
    """The words Debian's French dictionary does not know."""
    assert shutil.which("hunspell"), "hunspell missing: scripts/test installs hunspell and hunspell-fr"
    answer = subprocess.run(["hunspell", "-d", "fr_FR", "-i", "utf-8", "-l"], input="\n".join(sorted(words)),
                            capture_output=True, text=True, check=True)
    return set(answer.stdout.split())


def project_words() -> set[str]:
    lines = WORD_LIST.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


# What a user types, quoted to them: a command (« incidents acknowledge »), an option (--scope), an environment
# setting (INCIDENTS_ACTOR), or a file's field.
OPTIONS = re.compile(r"--[a-z][\w-]*|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\b[a-z]+(?:_[a-z]+)+\b")
# In a help screen only: the commands listed, and the values a choice accepts, each explained in French beside it
# (« academy (champ de compétence exclusif de l'académie) ») or quoted (« yes »).
HELP_TYPED = re.compile(r"\b[a-z][a-z-]*(?=\s+\()|« [a-z][a-z-]* »|^ *[a-z][a-z-]+(?= {2})|\{[^}]*\}|<[a-z ]+>"
                        r"|\[par défaut\s*:\s*[^\]]*\]|\bchamps?\b[^;)]*", re.M)


def command_names() -> set[str]:
    from typer.main import get_command

    from cli.main import app

    def names(group: object) -> set[str]:
        found: set[str] = set()
        for name, command in getattr(group, "commands", {}).items():
            found |= {name} | names(command)
        return found

    return names(get_command(app))


# A signed checkpoint as reports print it (c2sp.org/signed-note): origin, size, base64 root, the extension lines,
# a blank line, then "— origin signature".
SIGNED_NOTE = re.compile(r"^[\w.-]+\r?\n\d+\r?\n[A-Za-z0-9+/]{43}=\r?\n(?:(?:time|chain) \S+\r?\n)*\r?\n"
                         r"(?:— \S+ \S+\r?\n?)+", re.M)


def prose(text: str, commands: set[str] = frozenset(), help_screen: bool = False) -> str:  # type: ignore[assignment]
    """The words of a text as read: tags, entities, what is not prose and what a user types removed."""
    text = re.sub(r"<(script|style|metadata)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<code\b.*?</code>", " ", text, flags=re.S)  # technical quotes (a relay's reply) are no prose
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = SIGNED_NOTE.sub(" ", text)  # a signed checkpoint, printed to be copied as it is: no prose either
    text = OPTIONS.sub(" ", NOT_PROSE.sub(" ", text))
    if commands:
        text = re.sub(r"\bincidents(?: (?:" + "|".join(map(re.escape, sorted(commands, key=len, reverse=True)))
                      + r")\b)+", " ", text)
    text = re.sub(r"« prefect [^»]*»", " ", text)  # a Prefect command the operator is told to type
    return HELP_TYPED.sub(" ", text) if help_screen else text


WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
ELISIONS = {"l", "d", "n", "s", "j", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "m", "t"}


def words_of(text: str) -> set[str]:
    return set(WORD.findall(text))


def _parts(word: str) -> list[str]:
    return [part for part in re.split(r"['’-]", word) if part and part.lower() not in ELISIONS]


def unknown_words(words: set[str]) -> set[str]:
    """Words neither French nor on the project's list; a compound (« l'académie », « Meurthe-et-Moselle ») passes
    when each of its parts does."""
    allowed = project_words()
    suspects = {word for word in hunspell_unknown(words) if word not in allowed}
    parts = {part for word in suspects for part in _parts(word)}
    unknown_parts = {part for part in hunspell_unknown(parts) if part not in allowed}
    return {word for word in suspects if not _parts(word) or any(p in unknown_parts for p in _parts(word))}


def problems(texts: dict[str, str]) -> dict[str, list[str]]:
    """For each text that has some: the internal codes, framework words and unknown words it holds. A text whose
    name starts with « aide » is a help screen, where the values a user types are listed."""
    commands = command_names()
    readable = {name: prose(text, commands, help_screen=name.startswith("aide")) for name, text in texts.items()}
    codes = project_codes()
    french_codes = codes - hunspell_unknown(codes)  # « met », « simple »: ordinary French words, not codes here
    unknown = unknown_words(set().union(*(words_of(text) for text in readable.values())))
    found: dict[str, list[str]] = {}
    for name, text in texts.items():
        issues = [f"code « {code} »" for code in sorted(codes - french_codes)
                  if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", readable[name])]
        issues += [f"anglais « {words} »" for words in FRAMEWORK_WORDS if words in text]
        issues += [f"mot inconnu « {word} »" for word in sorted(words_of(readable[name]) & unknown)]
        if issues:
            found[name] = issues
    return found
