"""The whole of `incidents verify` on the store: the chain, then every record against what the entries attest, every
entry's incident against the one its hash names, and the attachment files.

Over a large store (a million entries in 20 s, issue 12) the chain is checked in a second process while this one
checks the records: both read the whole timeline, neither needs the other's result, and a machine running the engine
has two cores at least. Each reads in a read transaction of its own, so each sees one consistent state of the store.
"""

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from sqlmodel import Session

from models.attachments import unfaithful_files
from models.attestation import Attestations, Discrepancy, discrepancies, misfiled_entries
from models.collection import cycle_collection_paused
from models.db import read_scope
from models.timeline import ChainHead, ChainReport, verify_chain
from settings.env import database_url

# Below this many entries, starting a second Python (its imports: about a second) costs more than it saves.
PARALLEL_FROM = 50_000


@dataclass(frozen=True)
class StoreCheck:
    """What `verify` found: the chain's report and, if it holds, what does not match it."""

    chain: ChainReport
    misfiled: list[tuple[int, str | None]] = field(default_factory=list)  # (entry, reference its hash names)
    differing: list[Discrepancy] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # attachment files, in French

    def problems(self) -> list[str]:
        """Each problem with the records, in French."""
        return [f"l'entrée n° {seq} ({ref or 'sans incident'}) est rattachée à un autre incident que celui que "
                "couvre son empreinte" for seq, ref in self.misfiled] \
            + [found.text() for found in self.differing] + self.damaged


def verify_store(url: str | None = None, parallel_from: int | None = None) -> StoreCheck:
    """Check the store at `url` (the configured one by default); the chain in a second process once it holds
    `parallel_from` entries (PARALLEL_FROM by default)."""
    url = url or database_url()
    parallel_from = PARALLEL_FROM if parallel_from is None else parallel_from
    with cycle_collection_paused():  # every attestation read stays alive until the records are compared
        with read_scope(url) as session:
            head = session.get(ChainHead, 1)
            if head is None or head.seq < parallel_from:
                attestations = Attestations()  # read in the chain's own pass over the entries
                chain = verify_chain(session, on_entry=attestations.add)
                return StoreCheck(chain, *_records(session, attestations)) if chain.ok else StoreCheck(chain)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as other:
            try:
                chain_checked: Future[tuple[ChainReport, list[tuple[int, str | None]]]] | None = \
                    other.submit(chain_of, url)
            except OSError:  # no second process could start: the chain here, after the records
                chain_checked = None
            with read_scope(url) as session:
                differing, damaged = discrepancies(session), unfaithful_files(session)
            try:
                chain, misfiled = chain_checked.result() if chain_checked is not None else chain_of(url)
            except BrokenProcessPool:  # the second process died (killed, out of memory): the chain here instead
                chain, misfiled = chain_of(url)
        return StoreCheck(chain, misfiled, differing, damaged) if chain.ok else StoreCheck(chain)


def chain_of(url: str) -> tuple[ChainReport, list[tuple[int, str | None]]]:
    """In the second process: the chain's check, and the entries shown under another incident than the one their
    hash names."""
    with cycle_collection_paused(), read_scope(url) as session:
        chain = verify_chain(session)
        return chain, misfiled_entries(session) if chain.ok else []


def _records(session: Session, attestations: Attestations
             ) -> tuple[list[tuple[int, str | None]], list[Discrepancy], list[str]]:
    """Entries shown under another incident, records that differ from what the entries attest, and attachment
    files altered."""
    return misfiled_entries(session), discrepancies(session, attestations=attestations), unfaithful_files(session)
