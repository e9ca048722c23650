"""The Merkle tree reproduces the published RFC 6962 / RFC 9162 test vectors exactly.

Source: github.com/transparency-dev/merkle (Apache 2.0), `rfc6962/rfc6962_test.go` (hasher vectors),
`proof/verify_test.go` (the eight leaves of the RFC 6962 reference test, their roots, inclusion and consistency
proofs, and the corruptions a verifier must refuse), `proof/proof_test.go` (which subtrees each proof is made of),
and `testdata/consistency/4/happy-path.json` (the same vector in base64). These vectors go back to the original
certificate-transparency C++ tests.
"""

import base64

import pytest

from proof.errors import InvalidProof
from proof.merkle import (
    EMPTY_ROOT,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from proof.tree import MerkleTree

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
LEAF_HASHES = [leaf_hash(data) for data in LEAVES]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]


def h(*values: str) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


# (leaf index from 0, tree size, audit path): verify_test.go's inclusionProofs, whose leaf numbers count from 1.
INCLUSION = [
    (0, 8, h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (5, 8, h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 3, h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (1, 5, h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
    (0, 1, []),
]

# (old size, new size, proof): verify_test.go's consistencyProofs.
CONSISTENCY = [
    (1, 1, []),
    (1, 8, h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (6, 8, h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 5, h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
    (6, 7, h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
]

@pytest.fixture
def store() -> None:
    """Pure functions: no register to create (replaces the suite's per-test store)."""


SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_the_rfc6962_hasher_gives_the_published_hashes():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert node_hash(b"N123", b"N456").hex() == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


def test_an_empty_leaf_and_the_empty_tree_hash_differently():
    assert root([]) == EMPTY_ROOT != leaf_hash(b"")


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_the_reference_leaves(size):
    assert root(LEAF_HASHES[:size]) == ROOTS[size - 1]
    assert MerkleTree(LEAF_HASHES).root(size) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_are_the_published_ones_and_verify(index, size, path):
    tree = MerkleTree(LEAF_HASHES)
    assert tree.inclusion_proof(index, size) == path
    verify_inclusion(index, size, LEAF_HASHES[index], path, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_are_the_published_ones_and_verify(old, new, path):
    tree = MerkleTree(LEAF_HASHES)
    assert tree.consistency_proof(old, new) == path
    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], path)


def test_the_base64_vector_of_the_testdata_folder():
    # testdata/consistency/4/happy-path.json
    vector = {"size1": 6, "size2": 7, "root1": "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
              "root2": "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
              "proof": ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
                        "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="]}
    proof = [base64.b64decode(value) for value in vector["proof"]]
    root1, root2 = base64.b64decode(vector["root1"]), base64.b64decode(vector["root2"])
    assert (root1, root2) == (ROOTS[5], ROOTS[6])
    assert MerkleTree(LEAF_HASHES).consistency_proof(6, 7) == proof
    verify_consistency(6, 7, root1, root2, proof)


def _inclusion_corruptions(index, size, path, good_root, leaf):
    """verify_test.go's corruptInclusionProof: every one must be refused."""
    probes = [
        (index - 1, size, good_root, leaf, path), (index + 1, size, good_root, leaf, path),
        (index ^ 2, size, good_root, leaf, path), (index, size * 2, good_root, leaf, path),
        (index, size // 2, good_root, leaf, path), (index, size, good_root, leaf_hash(b"WrongLeaf"), path),
        (index, size, EMPTY_ROOT, leaf, path), (index, size, SOME_HASH, leaf, path),
        (index, size, good_root, leaf, [*path, good_root]), (index, size, good_root, leaf, [good_root, *path]),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((index, size, good_root, leaf, flipped))
    if path:
        probes.append((index, size, good_root, leaf, path[:-1]))
    if len(path) > 1:
        probes.append((index, size, good_root, leaf, [SOME_HASH, path[0], *path[1:]]))
    return probes


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION[:4])
def test_every_corruption_of_a_published_inclusion_proof_is_refused(index, size, path):
    for probe_index, probe_size, probe_root, probe_leaf, probe_path in \
            _inclusion_corruptions(index, size, path, ROOTS[size - 1], LEAF_HASHES[index]):
        with pytest.raises(InvalidProof):
            verify_inclusion(probe_index, probe_size, probe_leaf, probe_path, probe_root)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY[1:])
def test_every_corruption_of_a_published_consistency_proof_is_refused(old, new, path):
    """verify_test.go's corruptConsistencyProof."""
    root1, root2 = ROOTS[old - 1], ROOTS[new - 1]
    probes = [
        (old - 1, new, root1, root2, path), (old + 1, new, root1, root2, path), (old ^ 2, new, root1, root2, path),
        (old, new * 2, root1, root2, path), (old, new // 2, root1, root2, path),
        (old, new, SOME_HASH, root2, path), (old, new, root1, SOME_HASH, path), (old, new, root2, root1, path),
        (old, new, root1, root2, []),
        (old, new, root1, root2, [*path, root1]), (old, new, root1, root2, [*path, root2]),
        (old, new, root1, root2, [root1, *path]), (old, new, root1, root2, [root2, *path]),
        (old, new, root1, root2, [path[0], *path]), (old, new, root1, root2, path[:-1]),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((old, new, root1, root2, flipped))
    for probe in probes:
        with pytest.raises(InvalidProof):
            verify_consistency(*probe)


def test_trivial_consistency_cases_of_the_reference_verifier():
    """verify_test.go's TestVerifyConsistency table, with the empty tree's root where it is "don't care" there
    (we also require the empty tree to have its one possible root)."""
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 1, EMPTY_ROOT, ROOTS[0], [])
    verify_consistency(1, 1, ROOTS[0], ROOTS[0], [])
    for old, new, root1, root2, path in [
        (1, 1, ROOTS[0], ROOTS[1], []),  # same size, different roots
        (1, 0, ROOTS[0], EMPTY_ROOT, []), (2, 1, ROOTS[1], ROOTS[0], []),  # time travel to the past
        (1, 2, ROOTS[0], ROOTS[1], []),  # empty proof
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]), (0, 1, EMPTY_ROOT, ROOTS[0], [EMPTY_ROOT]),
        (1, 1, ROOTS[0], ROOTS[0], [EMPTY_ROOT]),  # roots match but the proof is not empty
        (0, 1, SOME_HASH, ROOTS[0], []),  # an empty tree with another root
    ]:
        with pytest.raises(InvalidProof):
            verify_consistency(old, new, root1, root2, path)


def test_a_one_leaf_tree_proves_its_leaf_with_an_empty_path():
    """verify_test.go's TestVerifyInclusionSingleEntry and TestVerifyInclusion probes."""
    leaf = leaf_hash(b"data")
    verify_inclusion(0, 1, leaf, [], leaf)
    for index, size in [(0, 0), (1, 0), (2, 1), (1, 1)]:
        with pytest.raises(InvalidProof):
            verify_inclusion(index, size, leaf, [], leaf)
    with pytest.raises(InvalidProof, match="racine : 0 octets au lieu de 32"):
        verify_inclusion(0, 1, leaf, [], b"")
    with pytest.raises(InvalidProof, match="empreinte de feuille : 0 octets au lieu de 32"):
        verify_inclusion(0, 1, b"", [], leaf)


def _perfect(level: int, index: int) -> tuple[int, int]:
    return index << level, (index + 1) << level


# proof_test.go's TestInclusion and TestConsistency: the subtrees (level, index) each proof is made of; where the
# reference marks a rehash, the consecutive subtrees at the right edge are one range here (e.g. "l = hash(i, j)").
@pytest.mark.parametrize(("index", "size", "ranges"), [
    (0, 1, []), (0, 2, [_perfect(0, 1)]), (1, 2, [_perfect(0, 0)]), (1, 3, [_perfect(0, 0), _perfect(0, 2)]),
    (0, 7, [_perfect(0, 1), _perfect(1, 1), (4, 7)]), (2, 7, [_perfect(0, 3), _perfect(1, 0), (4, 7)]),
    (4, 7, [_perfect(0, 5), _perfect(0, 6), _perfect(2, 0)]), (6, 7, [_perfect(1, 2), _perfect(2, 0)]),
    (3, 5, [_perfect(0, 2), _perfect(1, 0), _perfect(0, 4)]), (4, 6, [_perfect(0, 5), _perfect(2, 0)]),
    (10, 15, [_perfect(0, 11), _perfect(1, 4), (12, 15), _perfect(3, 0)]),
    (81, 95, [_perfect(0, 80), _perfect(1, 41), _perfect(2, 21), (88, 95), _perfect(4, 4), _perfect(6, 0)]),
])
def test_inclusion_proofs_use_the_reference_subtrees(index, size, ranges):
    assert inclusion_ranges(index, size) == ranges


@pytest.mark.parametrize(("old", "new", "ranges"), [
    (1, 2, [_perfect(0, 1)]), (1, 4, [_perfect(0, 1), _perfect(1, 1)]),
    (1, 6, [_perfect(0, 1), _perfect(1, 1), _perfect(1, 2)]), (2, 3, [_perfect(0, 2)]),
    (2, 8, [_perfect(1, 1), _perfect(2, 1)]), (3, 7, [_perfect(0, 2), _perfect(0, 3), _perfect(1, 0), (4, 7)]),
    (4, 7, [(4, 7)]), (5, 7, [_perfect(0, 4), _perfect(0, 5), _perfect(0, 6), _perfect(2, 0)]),
    (6, 7, [_perfect(1, 2), _perfect(0, 6), _perfect(2, 0)]),
    (7, 8, [_perfect(0, 6), _perfect(0, 7), _perfect(1, 2), _perfect(2, 0)]),
    (3, 3, []), (8, 8, []), (2, 4, [_perfect(1, 1)]), (4, 6, [_perfect(1, 2)]),
    (10, 15, [_perfect(1, 4), _perfect(1, 5), (12, 15), _perfect(3, 0)]),
    (24, 31, [_perfect(3, 2), (24, 31), _perfect(4, 0)]),
    (81, 95, [_perfect(0, 80), _perfect(0, 81), _perfect(1, 41), _perfect(2, 21), (88, 95), _perfect(4, 4),
              _perfect(6, 0)]),
])
def test_consistency_proofs_use_the_reference_subtrees(old, new, ranges):
    assert consistency_ranges(old, new) == ranges
