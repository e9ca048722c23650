"""The growing log keeps what it hashed: a checkpoint after new entries hashes only them, and a proof costs a
logarithmic number of hashes however large the log, at its current size or any past one."""

import pytest

import proof.merkle
import proof.tree
from proof.errors import InvalidProof
from proof.merkle import Frontier, leaf_hash, root, verify_consistency, verify_inclusion
from proof.tree import MerkleTree

SIZE = 70_001  # above 2^16, not a power of two: the right edge has many incomplete subtrees
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(SIZE)]


@pytest.fixture
def store() -> None:
    """Pure functions: no register to create (replaces the suite's per-test store)."""


@pytest.fixture(scope="module")
def tree() -> MerkleTree:
    return MerkleTree(LEAVES)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the interior-node hashes computed, wherever they are computed."""
    count = [0]
    original = proof.merkle.node_hash

    def counting(left: bytes, right: bytes) -> bytes:
        count[0] += 1
        return original(left, right)

    monkeypatch.setattr(proof.merkle, "node_hash", counting)
    monkeypatch.setattr(proof.tree, "node_hash", counting)
    return count


def test_the_tree_built_in_batches_equals_the_tree_built_leaf_by_leaf():
    one_by_one, batches = MerkleTree(), MerkleTree()
    for leaf in LEAVES[:1000]:
        one_by_one.append(leaf)
    for start, end in [(0, 1), (1, 2), (2, 77), (77, 512), (512, 513), (513, 1000)]:
        batches.extend(LEAVES[start:end])
    assert one_by_one.size == batches.size == 1000
    assert one_by_one.root() == batches.root() == root(LEAVES[:1000])
    assert [one_by_one.node(3, i) for i in range(125)] == [batches.node(3, i) for i in range(125)]


def test_an_inclusion_proof_costs_logarithmic_hashing(tree, hashes):
    for index in (0, 12_345, 65_535, 65_536, SIZE - 1):
        hashes[0] = 0
        path = tree.inclusion_proof(index)
        assert len(path) <= 17
        # The path is cached complete subtrees, plus the right edge's incomplete ones, each folded once.
        assert hashes[0] <= 17, (index, hashes[0])
        verify_inclusion(index, SIZE, LEAVES[index], path, tree.root())


def test_a_consistency_proof_and_a_past_root_cost_logarithmic_hashing(tree, hashes):
    for old_size in (1, 1000, 65_536, 65_537, SIZE - 1):
        hashes[0] = 0
        old_root = tree.root(old_size)
        path = tree.consistency_proof(old_size)
        assert hashes[0] <= 2 * 17, (old_size, hashes[0])
        verify_consistency(old_size, SIZE, old_root, tree.root(), path)


def test_a_checkpoint_after_new_entries_hashes_only_those(hashes):
    expected = root(LEAVES[:65_636])
    frontier = Frontier()
    frontier.extend(LEAVES[:65_536])
    hashes[0] = 0
    frontier.extend(LEAVES[65_536:65_536 + 100])
    assert hashes[0] <= 100  # one merge per leaf on average
    hashes[0] = 0
    assert frontier.root() == expected
    assert hashes[0] == 3  # 65,636 = 2^16 + 64 + 32 + 4: four subtrees to fold


def test_a_proof_at_a_past_size_is_the_proof_the_smaller_tree_gives(tree):
    smaller = MerkleTree(LEAVES[:5000])
    assert tree.inclusion_proof(4321, 5000) == smaller.inclusion_proof(4321)
    assert tree.consistency_proof(1234, 5000) == smaller.consistency_proof(1234)
    assert tree.frontier(5000).hashes == smaller.frontier().hashes


def test_the_tree_refuses_what_it_does_not_hold(tree):
    with pytest.raises(InvalidProof, match="taille 70002 au-delà de l'arbre"):
        tree.root(SIZE + 1)
    with pytest.raises(InvalidProof, match="indice de feuille 70001 hors de l'arbre de 70001 feuilles"):
        tree.inclusion_proof(SIZE)
    with pytest.raises(InvalidProof, match="empreinte de feuille n° 1 : 31 octets au lieu de 32"):
        MerkleTree([b"x" * 31])
