"""Who may read what, said once: the académie's people and auditors read every incident; a commune's people read their
commune's incidents only, and of another's nothing, not even that it exists. Both ways of reading the store apply this
rule: the ORM's gated queries (models.queries) and the driver's plain reads (models.plain_reads).

Imports no store: the short read commands use it without loading SQLAlchemy (issue 12)."""

from typing import TYPE_CHECKING

from models.errors import NotFound, Refused
from policy.parties import Party

if TYPE_CHECKING:
    from settings.parties import Person


def reads_everything(reader: "Person") -> bool:
    return reader.party is Party.ACADEMY


def readable_commune(reader: "Person") -> str | None:
    """The one commune (INSEE code) whose incidents `reader` may read; None when they may read every commune's."""
    return None if reads_everything(reader) else reader.insee


def may_read(reader: "Person", insee: str) -> bool:
    """Whether `reader` may read (and so act on) an incident of the commune `insee`."""
    commune = readable_commune(reader)
    return commune is None or commune == insee


def require_whole_store(reader: "Person", what: str) -> None:
    """Reads that span every commune (the full export, the steering report) are the académie's."""
    if not reads_everything(reader):
        raise Refused(f"Refusé : {what} couvre toutes les communes ; il est réservé aux personnes de l'académie "
                      "(auditeurs compris).")


def looked_up(ref: str) -> str | None:
    """The reference to look up, or None when no incident can bear it (too long, control characters, bytes that were
    not UTF-8): answered as missing without asking the store."""
    if "\x00" in ref or len(ref) > 32 or not ref.isprintable() or _undecodable(ref):
        return None
    return ref


def not_found(ref: str) -> NotFound:
    """The answer for a reference that names no incident the reader may see: the same whether it is missing or
    another commune's."""
    return NotFound(f"Aucun incident ne porte la référence « {shown_ref(ref)} ».")


def _undecodable(ref: str) -> bool:
    """Bytes that were not UTF-8 on the command line (kept as lone surrogates): no reference is made of them."""
    try:
        ref.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def shown_ref(ref: str) -> str:
    """A reference as typed, echoed back harmless: short, with no control character for the terminal to run."""
    cleaned = "".join(char if char.isprintable() else "?" for char in ref[:40])
    return cleaned + ("…" if len(ref) > 40 else "")
