"""For every tree size up to a few hundred leaves: proofs are the RFC 9162 ones (checked against the RFC's own
recursive definitions, written out below), every inclusion and consistency proof verifies, and altering any hash,
the index or a size makes it fail."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proof.errors import InvalidProof
from proof.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    largest_power_of_two_below,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from proof.tree import MerkleTree

MAX_SIZE = 300
LEAVES = [leaf_hash(f"entrée {i}".encode()) for i in range(MAX_SIZE)]
TREE = MerkleTree(LEAVES)


@pytest.fixture
def store() -> None:
    """Pure functions: no register to create (replaces the suite's per-test store)."""


# --- RFC 9162 §2.1, word for word ----------------------------------------------------------------------------------


def mth(d: list[bytes]) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = largest_power_of_two_below(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = largest_power_of_two_below(len(d))
    return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = largest_power_of_two_below(len(d))
    return subproof(m, d[:k], b) + [mth(d[k:])] if m <= k else subproof(m - k, d[k:], False) + [mth(d[:k])]


def flipped(hashes: list[bytes], position: int) -> list[bytes]:
    altered = list(hashes)
    altered[position] = bytes([altered[position][0] ^ 1]) + altered[position][1:]
    return altered


# --- Exhaustive over small trees -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(0, 70))
def test_roots_follow_the_rfc_definition_at_every_size(size):
    assert TREE.root(size) == root(LEAVES[:size]) == mth(LEAVES[:size])
    assert TREE.frontier(size).root() == TREE.root(size)


@pytest.mark.parametrize("size", range(1, 40))
def test_every_inclusion_proof_of_a_small_tree_is_the_rfc_one_and_verifies(size):
    for index in range(size):
        proof = TREE.inclusion_proof(index, size)
        assert proof == path(index, LEAVES[:size]) == inclusion_proof(LEAVES[:size], index, size)
        verify_inclusion(index, size, LEAVES[index], proof, TREE.root(size))


@pytest.mark.parametrize("new_size", range(1, 40))
def test_every_consistency_proof_of_a_small_tree_is_the_rfc_one_and_verifies(new_size):
    for old_size in range(0, new_size + 1):
        proof = TREE.consistency_proof(old_size, new_size)
        expected = [] if old_size in (0, new_size) else subproof(old_size, LEAVES[:new_size], True)
        assert proof == expected == consistency_proof(LEAVES[:new_size], old_size, new_size)
        verify_consistency(old_size, new_size, TREE.root(old_size), TREE.root(new_size), proof)


# --- Random trees up to MAX_SIZE: alterations -----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_an_altered_inclusion_proof_never_verifies(data):
    size = data.draw(st.integers(1, MAX_SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    good_root, leaf = TREE.root(size), LEAVES[index]
    proof = TREE.inclusion_proof(index, size)
    assert proof == path(index, LEAVES[:size])
    verify_inclusion(index, size, leaf, proof, good_root)

    for position in range(len(proof)):  # any hash of the path
        with pytest.raises(InvalidProof):
            verify_inclusion(index, size, leaf, flipped(proof, position), good_root)
    with pytest.raises(InvalidProof):  # the leaf
        verify_inclusion(index, size, flipped([leaf], 0)[0], proof, good_root)
    with pytest.raises(InvalidProof):  # the root
        verify_inclusion(index, size, leaf, proof, flipped([good_root], 0)[0])
    if size > 1:
        with pytest.raises(InvalidProof):  # another leaf's hash at this index
            verify_inclusion(index, size, LEAVES[(index + 1) % size], proof, good_root)
    other_index = data.draw(st.integers(0, MAX_SIZE), label="other index")
    if other_index != index:
        with pytest.raises(InvalidProof):
            verify_inclusion(other_index, size, leaf, proof, good_root)
    # A size always comes with its root (both are in the signed checkpoint): another size, with its own root.
    other_size = data.draw(st.integers(1, MAX_SIZE), label="other size")
    if other_size != size:
        with pytest.raises(InvalidProof):
            verify_inclusion(index, other_size, leaf, proof, TREE.root(other_size))
    with pytest.raises(InvalidProof):  # a hash too many, or too few
        verify_inclusion(index, size, leaf, [*proof, good_root], good_root)
    if proof:
        with pytest.raises(InvalidProof):
            verify_inclusion(index, size, leaf, proof[:-1], good_root)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_an_altered_consistency_proof_never_verifies(data):
    new_size = data.draw(st.integers(2, MAX_SIZE), label="new size")
    old_size = data.draw(st.integers(1, new_size - 1), label="old size")
    old_root, new_root = TREE.root(old_size), TREE.root(new_size)
    proof = TREE.consistency_proof(old_size, new_size)
    assert proof == subproof(old_size, LEAVES[:new_size], True)
    verify_consistency(old_size, new_size, old_root, new_root, proof)

    for position in range(len(proof)):
        with pytest.raises(InvalidProof):
            verify_consistency(old_size, new_size, old_root, new_root, flipped(proof, position))
    with pytest.raises(InvalidProof):
        verify_consistency(old_size, new_size, flipped([old_root], 0)[0], new_root, proof)
    with pytest.raises(InvalidProof):
        verify_consistency(old_size, new_size, old_root, flipped([new_root], 0)[0], proof)
    with pytest.raises(InvalidProof):
        verify_consistency(old_size, new_size, new_root, old_root, proof)
    other_old = data.draw(st.integers(0, MAX_SIZE), label="other old size")
    if other_old != old_size:
        with pytest.raises(InvalidProof):
            verify_consistency(other_old, new_size, TREE.root(min(other_old, MAX_SIZE)), new_root, proof)
    other_new = data.draw(st.integers(1, MAX_SIZE), label="other new size")
    if other_new != new_size:
        with pytest.raises(InvalidProof):
            verify_consistency(old_size, other_new, old_root, TREE.root(other_new), proof)
    with pytest.raises(InvalidProof):
        verify_consistency(old_size, new_size, old_root, new_root, [*proof, new_root])
    with pytest.raises(InvalidProof):
        verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])


@settings(max_examples=60, deadline=None)
@given(old_size=st.integers(1, 120), extra=st.integers(1, 120), changed=st.data())
def test_a_rewritten_history_is_not_consistent_with_the_old_checkpoint(old_size, extra, changed):
    """The operator alters one entry of the old tree (or inserts one), keeps appending, and tries to show the new
    tree extends the old checkpoint: no proof from the rewritten tree verifies."""
    index = changed.draw(st.integers(0, old_size - 1), label="altered entry")
    rewritten = list(LEAVES[:old_size + extra])
    if changed.draw(st.booleans(), label="insert rather than alter"):
        rewritten.insert(index, leaf_hash(b"inserted"))
    else:
        rewritten[index] = leaf_hash(b"forged")
    forged_tree = MerkleTree(rewritten)
    proof = forged_tree.consistency_proof(old_size)
    with pytest.raises(InvalidProof):
        verify_consistency(old_size, forged_tree.size, TREE.root(old_size), forged_tree.root(), proof)


def test_a_truncated_log_cannot_prove_it_extends_the_old_checkpoint():
    with pytest.raises(InvalidProof, match="l'arbre a rétréci : 100 feuilles avant, 90 après"):
        verify_consistency(100, 90, TREE.root(100), TREE.root(90), [])


def test_a_frontier_restored_from_its_dict_continues_the_same_log():
    frontier = Frontier()
    frontier.extend(LEAVES[:123])
    restored = Frontier.from_dict(frontier.to_dict())
    restored.extend(LEAVES[123:])
    assert restored.size == MAX_SIZE and restored.root() == TREE.root()
    assert len(frontier.hashes) == bin(123).count("1")


def test_a_frontier_with_the_wrong_number_of_hashes_is_refused():
    with pytest.raises(InvalidProof, match="frontière incohérente : 2 empreintes pour 7 feuilles"):
        Frontier(7, LEAVES[:2])
