"""Over a large store, two processes check the chain at once, each a span of it (models/verification.py): the
second takes up where the first ends, and its report is the whole chain's when the first span holds. Wherever the
chain is cut, and whatever was done to it beside the door, the two spans together must report exactly what one pass
reports: the same first bad entry, the same problem, the same count and hash."""

import shutil
import sqlite3

from models.db import read_scope
from models.timeline import ChainReport, verify_chain
from tests.store_probe import execute
from tests.walkers import declared

AT = "2026-11-28T10:00:00+01:00"

# What was done beside the door, to the entry numbered `m` (or to the head).
TAMPERINGS: dict[str, str] = {
    "nothing": "SELECT 1",
    "entry deleted": "DELETE FROM timeline_entry WHERE seq = :m",
    "content changed": "UPDATE timeline_entry SET actor = 'quelqu''un' WHERE seq = :m",
    "link changed": "UPDATE timeline_entry SET prev_hash = hash WHERE seq = :m",
    "numbered as text": "UPDATE timeline_entry SET seq = 'x' WHERE seq = :m",
    "numbered 0": "UPDATE timeline_entry SET seq = 0 WHERE seq = :m",
    "numbered in between": "UPDATE timeline_entry SET seq = :m + 0.5 WHERE seq = :m",
    "moved past the head": "UPDATE timeline_entry SET seq = (SELECT max(seq) + 3 FROM timeline_entry) WHERE seq = :m",
    "entries from it deleted": "DELETE FROM timeline_entry WHERE seq >= :m",
    "head hash changed": "UPDATE chain_head SET hash = (SELECT prev_hash FROM timeline_entry WHERE seq = :m)",
    "head numbered as text": "UPDATE chain_head SET seq = 'douze'",
    "head deleted": "DELETE FROM chain_head",
}


def spans(url: str, split: int) -> ChainReport:
    """The chain checked in two spans cut after entry `split`, joined as models.verification joins them."""
    with read_scope(url) as session:
        first = verify_chain(session, span=(0, split))
        last = verify_chain(session, span=(split, None))
    return last if first.ok else first


def test_two_spans_report_what_one_pass_reports_wherever_the_chain_is_cut(cli, store, tmp_path):
    for number in range(2):
        declared(cli, tmp_path, at=AT, title=f"Incident {number}")
    with sqlite3.connect(store) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        entries = connection.execute("SELECT count(*) FROM timeline_entry").fetchone()[0]
    assert entries >= 6
    for case, (tampering, sql) in enumerate(TAMPERINGS.items()):
        for m in (1, 2, entries // 2, entries - 1, entries):
            copy = tmp_path / f"copy-{case}-{m}.db"  # a store of its own: the engine of a path stays open
            shutil.copy(store, copy)
            execute(copy, sql.replace(":m", str(m)))
            url = f"sqlite:///{copy}"
            with read_scope(url) as session:
                whole = verify_chain(session)
            assert whole.ok == (tampering == "nothing"), (tampering, m, whole)
            for split in range(entries + 2):
                assert spans(url, split) == whole, (tampering, m, split)
