"""An append-only Merkle tree that keeps the hash of every complete subtree, so that roots at any past size and
proofs cost O(log n) hashing, whatever the size of the log.

A complete subtree never changes once its last leaf is in (the log is append-only), so the cache is never
invalidated: it only grows, by one hash per leaf on average. Level l holds the complete subtrees of 2^l leaves,
packed 32 bytes each in one bytearray: a million leaves take 64 MB, with no per-object overhead. The tree is derived
data: it is rebuilt from the leaf hashes in order (`MerkleTree(leaves)`, or `extend` with a generator reading them
from the store, or `leaf_hash(i) for i in range(n)`), a million in about two seconds.
"""

import hashlib
from collections.abc import Iterable

from proof.errors import InvalidProof
from proof.merkle import EMPTY_ROOT, HASH_SIZE, Frontier, consistency_proof, inclusion_proof, node_hash

_NODE_PREFIX = b"\x01"  # merkle.node_hash's, inlined in `extend`: a million parents hashed without a call each


class MerkleTree:
    """The log's leaf hashes and every complete subtree above them; a `RangeHasher` for `proof.merkle`."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaves)

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append leaf hashes in order, then the complete subtrees they close, level by level."""
        base = self._levels[0]
        for leaf in leaves:
            if len(leaf) != HASH_SIZE:
                raise InvalidProof(f"empreinte de feuille n° {self.size + 1} : {len(leaf)} octets au lieu de "
                                   f"{HASH_SIZE}")
            base += leaf
        level = 0
        while len(self._levels[level]) >= 2 * HASH_SIZE:
            if level + 1 == len(self._levels):
                self._levels.append(bytearray())
            below, above = self._levels[level], self._levels[level + 1]
            have, complete = len(above) // HASH_SIZE, len(below) // (2 * HASH_SIZE)
            if have < complete:
                # Two siblings are adjacent in the level below: one slice is the node's whole preimage.
                view = memoryview(below)
                parents = b"".join(hashlib.sha256(_NODE_PREFIX + view[2 * HASH_SIZE * i:2 * HASH_SIZE * (i + 1)])
                                   .digest() for i in range(have, complete))
                view.release()
                above += parents
            level += 1

    def append(self, leaf: bytes) -> None:
        self.extend((leaf,))

    def leaf(self, index: int) -> bytes:
        return self.node(0, index)

    def node(self, level: int, index: int) -> bytes:
        """The root of the complete subtree of leaves [index × 2^level, (index + 1) × 2^level)."""
        if level >= len(self._levels) or not 0 <= index < len(self._levels[level]) // HASH_SIZE:
            raise InvalidProof(f"sous-arbre ({level}, {index}) absent d'un arbre de {self.size} feuilles")
        return bytes(self._levels[level][HASH_SIZE * index:HASH_SIZE * (index + 1)])

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for 0 ≤ start < end ≤ size: a cached node when the range is a complete subtree,
        else the split of RFC 9162 §2.1.1. Proof ranges are complete subtrees or end at the tree's right edge,
        so this is O(log n) hashing for them."""
        if not 0 <= start < end <= self.size:
            raise InvalidProof(f"feuilles {start} à {end} absentes d'un arbre de {self.size} feuilles")
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            return self.node(width.bit_length() - 1, start // width)
        k = 1 << ((width - 1).bit_length() - 1)
        return node_hash(self.range_hash(start, start + k), self.range_hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (all of them by default): the root a checkpoint of that size signs."""
        size = self._size_within(size)
        return EMPTY_ROOT if size == 0 else self.range_hash(0, size)

    def frontier(self, size: int | None = None) -> Frontier:
        """The compact range of the first `size` leaves, to persist and extend without the tree."""
        size = self._size_within(size)
        hashes, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                hashes.append(self.node(level, start >> level))
                start += 1 << level
        return Frontier(size, hashes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf `index` in the first `size` leaves (all of them by default)."""
        return inclusion_proof(self, index, self._size_within(size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the first `new_size` leaves (all by default) extend the first `old_size`."""
        return consistency_proof(self, old_size, self._size_within(new_size))

    def _size_within(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise InvalidProof(f"taille {size} au-delà de l'arbre ({self.size} feuilles)")
        return size
