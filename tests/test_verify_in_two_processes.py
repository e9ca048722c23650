"""Over a large store, `incidents verify` checks the chain in a second process while it checks the records
(models/verification.py). It must find exactly what the one-process check finds, and still check the chain when no
second process can start."""

import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from models.verification import verify_store
from tests.store_probe import execute
from tests.walkers import declared, timeline_of

AT = "2026-11-28T10:00:00+01:00"


def both(url: str) -> tuple[list[str], list[str], bool, int]:
    """The problems found, in one process and in two; whether the chain holds; its length (the two agree)."""
    alone, shared = verify_store(url, parallel_from=10**9), verify_store(url, parallel_from=0)
    assert (alone.chain.ok, alone.chain.entries, alone.chain.head_hash, alone.chain.first_bad_seq) == \
           (shared.chain.ok, shared.chain.entries, shared.chain.head_hash, shared.chain.first_bad_seq)
    return alone.problems(), shared.problems(), alone.chain.ok, alone.chain.entries


def test_two_processes_find_what_one_finds(cli, store, tmp_path):
    url = f"sqlite:///{store}"
    refs = [declared(cli, tmp_path, at=AT, title=f"Incident {number}")["ref"] for number in range(3)]
    alone, shared, ok, entries = both(url)
    assert ok and alone == shared == [] and entries == sum(len(timeline_of(cli, ref)) for ref in refs)

    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref IN (?, ?)", refs[1], refs[2])  # 2: the
    # latest incident, whose records the second process judges
    execute(store, "UPDATE obligation SET due_at = '2027-01-01 00:00:00.000000' WHERE id = 1")
    execute(store, "UPDATE timeline_entry SET incident_id = (SELECT id FROM incident WHERE ref = ?) WHERE seq = ?",
            refs[2], timeline_of(cli, refs[0])[0]["seq"])
    execute(store, "UPDATE timeline_entry SET incident_id = 999 WHERE seq = ?", timeline_of(cli, refs[1])[-1]["seq"])
    alone, shared, ok, _ = both(url)
    assert ok and alone == shared and len(alone) == 5, alone
    assert sum("est rattachée à un autre incident que celui que couvre son empreinte" in problem
               for problem in alone) == 2
    assert any("(modifié hors de la porte unique : titre)" in problem for problem in alone)
    assert any("(modifiée hors de la porte unique : échéance)" in problem for problem in alone)

    execute(store, "UPDATE timeline_entry SET actor = 'quelqu''un' WHERE seq = 2")
    alone, shared, ok, entries = both(url)
    assert not ok and entries == 1 and alone == shared == []  # a broken chain: its records are not judged


def test_the_chain_is_checked_here_when_no_second_process_can_start(cli, store, tmp_path, monkeypatch):
    url = f"sqlite:///{store}"
    declared(cli, tmp_path, at=AT)
    execute(store, "UPDATE timeline_entry SET actor = 'quelqu''un' WHERE seq = 2")

    def refused(*_args: object, **_kwargs: object) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", refused)
    check = verify_store(url, parallel_from=0)
    assert not check.chain.ok and check.chain.first_bad_seq == 2


@pytest.mark.parametrize("processes", [10**9, 0])
def test_verify_leaves_the_cycle_collector_as_it_found_it(cli, store, tmp_path, processes):
    import gc

    declared(cli, tmp_path, at=AT)
    assert gc.isenabled()
    verify_store(f"sqlite:///{store}", parallel_from=processes)
    assert gc.isenabled()


def test_a_record_moved_to_no_incident_is_told_so_by_both_ways(cli, store, tmp_path):
    url = f"sqlite:///{store}"
    refs = [declared(cli, tmp_path, at=AT, title=f"Incident {number}")["ref"] for number in range(3)]
    execute(store, "UPDATE obligation SET incident_id = 99 WHERE id = (SELECT max(id) FROM obligation)")
    alone, shared, ok, _ = both(url)
    assert ok and alone == shared and len(alone) == 1, alone
    assert alone[0].startswith(f"{refs[2]} : une obligation (n° ")
    assert alone[0].endswith("n'est plus rattachée à aucun incident")


SINGLE_THREADED = """
import json, sys, threading
import models.verification as verification
from models.verification import verify_store

chosen = []
start_method = verification._start_method
verification._start_method = lambda: chosen.append(start_method()) or chosen[-1]
print("written before the second process starts")  # waits in this process's buffer (its output is a pipe)
assert threading.active_count() == 1
shared = verify_store(sys.argv[1], parallel_from=0)
print(json.dumps({"method": chosen, "ok": shared.chain.ok, "problems": shared.problems()}))
"""


def test_a_command_with_a_single_thread_starts_its_second_process_as_a_copy_of_itself(cli, store, tmp_path):
    """As `incidents verify` runs: one thread, so the second process is a fork of the first (no imports again); it
    finds what one process finds, on a database connection of its own, and writes nothing of the first's output."""
    url = f"sqlite:///{store}"
    refs = [declared(cli, tmp_path, at=AT, title=f"Incident {number}")["ref"] for number in range(3)]
    execute(store, "UPDATE incident SET title = 'Rien de grave' WHERE ref IN (?, ?)", refs[0], refs[2])
    execute(store, "UPDATE timeline_entry SET incident_id = 999 WHERE seq = ?", timeline_of(cli, refs[2])[-1]["seq"])
    alone = verify_store(url, parallel_from=10**9)
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    run = subprocess.run([sys.executable, "-c", SINGLE_THREADED, url], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], env=buffered, timeout=300)
    assert run.returncode == 0, run.stderr
    before, result = run.stdout.splitlines()
    assert before == "written before the second process starts"  # once: the copy did not write it again
    shared = json.loads(result)
    assert shared["method"] == ["fork"]
    assert shared["ok"] and shared["problems"] == alone.problems() and len(alone.problems()) == 3, shared
