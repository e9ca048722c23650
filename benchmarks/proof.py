"""Proof benchmark (issue 14): the cost of a signed checkpoint and of inclusion and consistency proofs over a log of
10,000 and 1,000,000 entries, and their size, which grows with log2(n), not with n.

    uv run python benchmarks/proof.py [--sizes 10000 1000000] [--proofs 1000]

Pure computation, no store: the leaves are SHA-256(0x00 || a 200-byte text) standing for the timeline's canonical
entries. Timed, per size:
- checkpoint, incremental: the frontier (compact range) of the log extended by 100 new entries, its root, and the
  Ed25519 signature of the checkpoint — what an engine pass that added entries does;
- checkpoint, from scratch: the root recomputed over every leaf (what the frontier avoids);
- the subtree cache (`MerkleTree`) built once from the leaf hashes, as a process would on start-up;
- inclusion and consistency proofs from that cache, and their verification with hashes only (mean of --proofs
  random ones), with their size in hashes and bytes, and the size of a one-entry proof file.
"""

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from proof.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint  # noqa: E402
from proof.document import ProofEntry, dump_document, inclusion_document  # noqa: E402
from proof.keys import SigningKey  # noqa: E402
from proof.merkle import Frontier, leaf_hash, root, verify_consistency, verify_inclusion  # noqa: E402
from proof.tree import MerkleTree  # noqa: E402

ORIGIN = "ac-nancy-metz.fr/incidents"
NEW_ENTRIES = 100  # entries added since the last checkpoint, in one engine pass
T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def text(i: int) -> bytes:
    return f'{{"seq":{i + 1},"kind":"alert_sent","payload":"{"x" * 160}"}}'.encode()


def run(size: int, proofs: int, key: SigningKey, rng: random.Random) -> None:
    print(f"\n== {size:,} entries (log2 n = {math.log2(size):.1f}) ==")
    tree_size = size + NEW_ENTRIES
    elapsed, leaves = timed(lambda: [leaf_hash(text(i)) for i in range(tree_size)])
    print(f"leaf hashes of {tree_size:,} entries (setup, not a proof cost): {elapsed:.2f} s")

    frontier = Frontier()
    elapsed, _ = timed(lambda: frontier.extend(leaves[:size]))
    last_root = frontier.root()
    print(f"frontier built once over {size:,} leaves: {elapsed:.2f} s ({len(frontier.hashes)} hashes kept)")

    def incremental_checkpoint() -> str:
        frontier.extend(leaves[size:])
        return sign_checkpoint(Checkpoint(ORIGIN, frontier.size, frontier.root(), datetime.now(UTC)), key)

    elapsed, note = timed(incremental_checkpoint)
    print(f"checkpoint, incremental (+{NEW_ENTRIES} entries, root, Ed25519 signature): {elapsed * 1e3:.2f} ms")
    elapsed, full_root = timed(lambda: root(leaves))
    print(f"checkpoint root from scratch over {tree_size:,} leaves (what the frontier avoids): {elapsed:.2f} s")
    assert open_checkpoint(note, key.verifier()).root == full_root
    elapsed, _ = timed(lambda: [open_checkpoint(note, key.verifier()) for _ in range(100)])
    print(f"checkpoint verification (parse + Ed25519): {elapsed / 100 * 1e3:.2f} ms (mean of 100); the note is "
          f"{len(note)} bytes")

    elapsed, tree = timed(lambda: MerkleTree(leaves))
    print(f"subtree cache built from {tree_size:,} leaf hashes: {elapsed:.2f} s "
          f"(~{2 * 32 * tree_size / 2**20:.0f} MiB)")
    assert tree.root(size) == last_root
    past_sizes = [rng.randrange(1, tree_size + 1) for _ in range(proofs)]
    elapsed, _ = timed(lambda: [tree.root(past) for past in past_sizes])
    print(f"root at a past size, from the cache: {elapsed / proofs * 1e6:.0f} µs (mean of {proofs})")

    build, check, lengths = [], [], []
    indices = [rng.randrange(tree_size) for _ in range(proofs)]
    for index in indices:
        started = time.perf_counter()
        path = tree.inclusion_proof(index)
        middle = time.perf_counter()
        verify_inclusion(index, tree_size, leaves[index], path, full_root)
        build.append(middle - started)
        check.append(time.perf_counter() - middle)
        lengths.append(len(path))
    report("inclusion", build, check, lengths)
    document = dump_document(inclusion_document(note, tree, [ProofEntry(indices[0], text(indices[0]).decode())]))
    print(f"one-entry proof file (JSON, checkpoint included): {len(document.encode()):,} bytes")

    build, check, lengths = [], [], []
    for old_size in (rng.randrange(1, tree_size) for _ in range(proofs)):
        old_root = tree.root(old_size)
        started = time.perf_counter()
        path = tree.consistency_proof(old_size)
        middle = time.perf_counter()
        verify_consistency(old_size, tree_size, old_root, full_root, path)
        build.append(middle - started)
        check.append(time.perf_counter() - middle)
        lengths.append(len(path))
    report("consistency", build, check, lengths)


def report(kind: str, build: list[float], check: list[float], lengths: list[int]) -> None:
    print(f"{kind} proof: {statistics.mean(build) * 1e6:.0f} µs to build, {statistics.mean(check) * 1e6:.0f} µs to "
          f"verify (mean of {len(build)}); {min(lengths)} to {max(lengths)} hashes, mean "
          f"{statistics.mean(lengths):.1f} ({max(lengths) * 32} bytes at most)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000], help="log sizes")
    parser.add_argument("--proofs", type=int, default=1000, help="random proofs timed per size (default 1000)")
    options = parser.parse_args()
    key = SigningKey(ORIGIN, Ed25519PrivateKey.generate())
    open_checkpoint(sign_checkpoint(Checkpoint(ORIGIN, 0, root([])), key), key.verifier())  # load the crypto first
    rng = random.Random(14)
    started = time.perf_counter()
    for size in options.sizes:
        run(size, options.proofs, key, rng)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
