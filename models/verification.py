"""The whole of `incidents verify` on the store: the chain, then every record against what the entries attest, every
entry's incident against the one its hash names, and the attachment files.

Over a large store (a million entries in 20 s, issue 12) the work is shared with a second process, since a machine
running the engine has two cores at least. The chain is cut in two spans: this process checks the first, the second
process checks the rest taken up where the first ends, and its report is the whole chain's when the first span holds
(models.timeline.verify_chain). The records are cut by incident reference: the second process judges the latest
incidents' (SECOND_SHARE of them), this one the others'. Neither needs the other's result; each reads in a read
transaction of its own, so each sees one consistent state of the store. Only an entry of one incident forged to
attest a record of an incident in the other share may be told otherwise than by one process (the entry not named as
another incident's); the record itself is named all the same."""

import multiprocessing
import sqlite3
import threading
from collections.abc import Collection
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from models.attachments import unfaithful_files
from models.attestation import AUDITED, Attestations, Discrepancy, Share, discrepancies, misfiled_entries
from models.collection import cycle_collection_paused
from models.db import dispose_engines, read_scope
from models.errors import not_text
from models.gate import readable_commune
from models.timeline import GENESIS_HASH, ChainHead, ChainReport, verify_chain
from rendering.formats import counted
from settings.env import database_url

if TYPE_CHECKING:
    from settings.parties import Person

# Below this many entries, starting a second Python (its imports: about a second) costs more than it saves.
PARALLEL_FROM = 50_000

# The second process's share: the last SECOND_CHAIN_SHARE of the chain's entries (by how it starts: started afresh,
# its imports take two seconds, so it checks less of the chain), and the records of the latest SECOND_SHARE of the
# incidents. Measured on a million entries (benchmarks/verify.py): the two processes end within a second or two.
SECOND_SHARE = 0.5
SECOND_CHAIN_SHARE = {"fork": 0.5, "spawn": 0.4}


@dataclass(frozen=True)
class StoreCheck:
    """What `verify` found: the chain's report and, if it holds, what does not match it."""

    chain: ChainReport
    misfiled: list[tuple[int, str | None]] = field(default_factory=list)  # (entry, reference its hash names)
    differing: list[Discrepancy] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # attachment files, in French

    def problems(self, readable: Collection[str | None] | None = None) -> list[str]:
        """Each problem with the records, in French; only those of the incidents `readable` if given (a commune's
        people read nothing of another commune's incidents, not even what is wrong with them)."""
        # An incident of theirs whose reference was edited: its old reference is theirs too.
        renamed = {found.incident_ref for found in self.differing if found.elsewhere and found.now_under is not None
                   and found.record.startswith("incident:") and readable is not None and found.now_under in readable}

        def shown(ref: str | None) -> bool:  # of no incident: nothing of a commune's
            return readable is None or ref is None or ref in readable or ref in renamed

        return [misfiled_text(ref, seqs) for ref, seqs in _by_incident(self.misfiled).items() if shown(ref)] \
            + [found.text(readable) for found in self.differing if shown(found.incident_ref)] \
            + [text for text in self.damaged if shown(text.partition(" : ")[0])]

    def hidden(self, readable: Collection[str | None]) -> int:
        """How many problems concern incidents not `readable`."""
        return len(self.problems()) - len(self.problems(readable))


LISTED_ENTRIES = 5  # beyond, a count: an incident whose reference was edited has all its entries misfiled


def _by_incident(misfiled: list[tuple[int, str | None]]) -> dict[str | None, list[int]]:
    grouped: dict[str | None, list[int]] = {}
    for seq, ref in sorted(misfiled, key=lambda found: found[0]):
        grouped.setdefault(ref, []).append(seq)
    return grouped


def misfiled_text(ref: str | None, seqs: list[int]) -> str:
    """One line for the entries of one incident shown under another: « l'entrée n° 4 (INC-…) est rattachée… »,
    « les entrées n° 4, 5, 9, 12, 13 et 25 autres (INC-…) sont rattachées… »."""
    where = ref or "sans incident"
    if len(seqs) == 1:
        return f"l'entrée n° {seqs[0]} ({where}) est rattachée à un autre incident que celui que couvre son empreinte"
    listed = seqs[:LISTED_ENTRIES]
    named = f"{', '.join(map(str, listed[:-1]))} et {listed[-1]}" if len(seqs) <= LISTED_ENTRIES else \
        f"{', '.join(map(str, listed))} et {counted(len(seqs) - LISTED_ENTRIES, 'autre')}"
    return f"les entrées n° {named} ({where}) sont rattachées à un autre incident que celui que couvre leur empreinte"


def readable_refs(reader: "Person", url: str | None = None) -> set[str | None] | None:
    """The references of the incidents `reader` may read (models.gate); None for every incident."""
    commune = readable_commune(reader)
    if commune is None:
        return None
    with read_scope(url) as session:
        return set(session.execute(text("SELECT ref FROM incident WHERE municipality_insee = :commune"),
                                   {"commune": commune}).scalars())


def verify_store(url: str | None = None, parallel_from: int | None = None) -> StoreCheck:
    """Check the store at `url` (the configured one by default); in two processes once its chain holds
    `parallel_from` entries (PARALLEL_FROM by default). A text SQLite cannot read as UTF-8 (bytes written beside the
    door: the door writes only text) fails the check as such, naming its column, rather than as a database error."""
    try:
        return _verify_store(url or database_url(), parallel_from)
    except (sqlite3.OperationalError, DatabaseError) as error:  # in a record, after the chain has held
        problem = not_text(error)
        if problem is None:
            raise
        return StoreCheck(ChainReport(False, 0, GENESIS_HASH, problem=problem))


def _verify_store(url: str, parallel_from: int | None) -> StoreCheck:
    parallel_from = PARALLEL_FROM if parallel_from is None else parallel_from
    with cycle_collection_paused():  # every attestation read stays alive until the records are compared
        with read_scope(url) as session:
            head = session.get(ChainHead, 1)
            if head is None or type(head.seq) is not int or head.seq < parallel_from:
                attestations = Attestations()  # read in the chain's own pass over the entries
                chain = verify_chain(session, on_entry=attestations.add)
                return StoreCheck(chain, *_records(session, attestations)) if chain.ok else StoreCheck(chain)
            pivot, entries = _pivot(session), head.seq
        start = _start_method()
        split = int(entries * (1 - SECOND_CHAIN_SHARE[start]))
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(start)) as other:
            try:
                checked: Future[SecondShare] | None = other.submit(second_share, url, pivot, split)
            except OSError:  # no second process could start: its share here, after this one's
                checked = None
            with read_scope(url) as session:
                first_span = verify_chain(session, span=(0, split))
                among = Share(pivot, later=False) if pivot is not None else None
                misfiled: list[tuple[int, str | None]] = []
                differing, damaged = (discrepancies(session, among=among, misfiled=misfiled),
                                      unfaithful_files(session)) if first_span.ok else ([], [])
            try:
                last_span, misfiled_later, more = checked.result() if checked is not None else \
                    second_share(url, pivot, split)
            except BrokenProcessPool:  # the second process died (killed, out of memory): its share here instead
                last_span, misfiled_later, more = second_share(url, pivot, split)
        chain = last_span if first_span.ok else first_span  # the last span's report is the chain's if the first holds
        return StoreCheck(chain, sorted(misfiled + misfiled_later), _merged(differing, more), damaged) \
            if chain.ok else StoreCheck(chain)


SecondShare = tuple[ChainReport, list[tuple[int, str | None]], list[Discrepancy]]


def second_share(url: str, pivot: str | None, split: int) -> SecondShare:
    """In the second process: the chain's entries after `split`, the entries shown under another incident than the
    one their hash names, and the records of the incidents from `pivot` on (none if None)."""
    with cycle_collection_paused(), read_scope(url) as session:
        chain = verify_chain(session, span=(split, None))
        if not chain.ok or pivot is None:
            return chain, [], []
        misfiled: list[tuple[int, str | None]] = []
        return chain, misfiled, discrepancies(session, among=Share(pivot, later=True), misfiled=misfiled)


def _start_method() -> str:
    """How the second process starts: as a copy of this one (fork) when this one runs no other thread, as the
    command line does: it starts at once, its imports done, rather than two seconds later. Otherwise afresh (spawn):
    a copy holds only the copying thread, and whatever locks the others held stay held. No database connection is
    open at this point (`read_scope` has given its own back, and the engines are disposed), so none is copied."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        dispose_engines()
        return "fork"
    return "spawn"


def _pivot(session: Session) -> str | None:
    """The reference from which the second process judges the records: the latest SECOND_SHARE of the incidents."""
    count = session.execute(text("SELECT count(*) FROM incident")).scalar() or 0
    offset = int(count * (1 - SECOND_SHARE))
    return session.execute(text("SELECT ref FROM incident ORDER BY ref LIMIT 1 OFFSET :offset"),
                           {"offset": offset}).scalar() if 0 < offset < count else None


def _merged(first: list[Discrepancy], second: list[Discrepancy]) -> list[Discrepancy]:
    """Both processes' findings in the order one process gives them: by the entry that attests them; an entry
    belongs to one incident, so to one process, except the records no entry attests (entry 0), which come in the
    order of the tables and of their numbers. A record moved by hand from an incident of one share to one of the
    other (its incident id, or its incident's reference, edited) is named by the process that read its attestations
    as now under another incident, and would be named by the other as attested by no entry, since it read none of
    them: one process names it only the first way, and so does this."""
    named = [{found.record for found in share if not found.unattested} for share in (first, second)]
    first = [found for found in first if not (found.unattested and found.record in named[1])]
    second = [found for found in second if not (found.unattested and found.record in named[0])]
    tables = list(AUDITED)

    def order(found: Discrepancy) -> tuple[int, int, int]:
        if found.attested_by:
            return found.attested_by, 0, 0
        table, _, number = found.record.partition(":")
        position = tables.index(table) if table in tables else len(tables)
        return 0, position, int(number) if number.isascii() and number.isdecimal() else 0

    return sorted(first + second, key=order)


def _records(session: Session, attestations: Attestations
             ) -> tuple[list[tuple[int, str | None]], list[Discrepancy], list[str]]:
    """Entries shown under another incident, records that differ from what the entries attest, and attachment
    files altered."""
    return misfiled_entries(session), discrepancies(session, attestations=attestations), unfaithful_files(session)
