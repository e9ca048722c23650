"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and their verification.

A leaf hash is SHA-256(0x00 || leaf bytes), an interior node SHA-256(0x01 || left || right); the tree over n leaves
splits at the largest power of two below n, and the empty tree hashes to SHA-256(""). The prefixes keep a leaf from
ever passing for a node (second-preimage resistance, RFC 9162 §2.1.1).

Proofs are computed in two steps: which ranges of leaves a proof needs (pure arithmetic on the index and sizes,
RFC 9162 §2.1.3.1 and §2.1.4.1), then their hashes from whatever holds the tree (`RangeHasher`: `proof.tree.MerkleTree`
caches every complete subtree, so a proof costs O(log n) hashing). Verification (§2.1.3.2, §2.1.4.2) needs hashes
only, never the tree.
"""

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from proof.errors import InvalidProof

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProof(f"{what} : {len(value)} octets au lieu de {HASH_SIZE}")


def largest_power_of_two_below(n: int) -> int:
    """The split point k of RFC 9162: the largest power of two strictly less than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class RangeHasher(Protocol):
    """Whatever holds a log's leaf hashes and can give MTH(D[start:end]) for the ranges a proof needs."""

    def range_hash(self, start: int, end: int) -> bytes: ...


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over these leaf hashes (RFC 9162 §2.1.1), in one pass and O(log n) memory."""
    frontier = Frontier()
    frontier.extend(leaf_hashes)
    return frontier.root()


class Frontier:
    """The compact range of a growing log: the roots of its complete subtrees, left to right, one per bit set in
    its size (at most 64 hashes, whatever the size). Appending a leaf costs one hash on average and the root
    O(log n), so a checkpoint after a million entries does not rehash them; persisted with `to_dict`, it lets the
    next checkpoint start from the last one instead of from the first leaf."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise InvalidProof(f"frontière incohérente : {len(hashes)} empreintes pour {size} feuilles")
        for position, value in enumerate(hashes):
            _check_hash(value, f"empreinte n° {position + 1} de la frontière")
        self.size = size
        self._hashes = list(hashes)

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash: like a binary counter, each carry merges two equal complete subtrees."""
        _check_hash(leaf, "empreinte de feuille")
        self._hashes.append(leaf)
        size = self.size
        while size & 1:
            right = self._hashes.pop()
            self._hashes[-1] = node_hash(self._hashes[-1], right)
            size >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the leaves so far: the subtree roots folded from the right (the split of §2.1.1 is always at the
        largest complete subtree on the left)."""
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            result = node_hash(left, result)
        return result

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "hashes": [value.hex() for value in self._hashes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Frontier":
        try:
            return cls(int(data["size"]), [bytes.fromhex(value) for value in data["hashes"]])
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidProof(f"frontière illisible ({error})") from error


# --- Which leaves a proof covers (no hashing) --------------------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges [start, end) whose hashes make the audit path of leaf `index` in a tree of `size` leaves,
    from the leaf's sibling up to the root's other child (RFC 9162 §2.1.3.1, PATH)."""
    if not 0 <= index < size:
        raise InvalidProof(f"indice de feuille {index} hors de l'arbre de {size} feuilles")
    top_down: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index < start + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            top_down.append((start + k, end))
            end = start + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            top_down.append((start, start + k))
            start += k
    return top_down[::-1]


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes prove that the tree of `new_size` leaves extends the one of `old_size`
    (RFC 9162 §2.1.4.1, SUBPROOF). Empty when there is nothing to prove (old size 0 or equal sizes)."""
    if not 0 <= old_size <= new_size:
        raise InvalidProof(f"taille ancienne {old_size} supérieure à la nouvelle ({new_size})")
    if old_size in (0, new_size):
        return []
    top_down: list[tuple[int, int]] = []
    start, end, whole_old_tree = 0, new_size, True
    while True:
        size, inside = end - start, old_size - start
        if inside == size:
            # SUBPROOF(m, D[m], b): nothing when the old tree is this very subtree (its root is known), else its hash
            if not whole_old_tree:
                top_down.append((start, end))
            break
        k = largest_power_of_two_below(size)
        if inside <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            top_down.append((start + k, end))
            end = start + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            top_down.append((start, start + k))
            start += k
            whole_old_tree = False
    return top_down[::-1]


def inclusion_proof(tree: RangeHasher | Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the first `size` leaves: from a `RangeHasher` (O(log n) hashing with
    `proof.tree.MerkleTree`) or from a plain list of leaf hashes (O(n) hashing)."""
    hasher = _as_hasher(tree)
    return [hasher.range_hash(start, end) for start, end in inclusion_ranges(index, size)]


def consistency_proof(tree: RangeHasher | Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The proof that the first `new_size` leaves extend the first `old_size` ones (same sources as above)."""
    hasher = _as_hasher(tree)
    return [hasher.range_hash(start, end) for start, end in consistency_ranges(old_size, new_size)]


class _LeafList:
    """A list of leaf hashes as a RangeHasher: each range is hashed from its leaves."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self._leaves = leaves

    def range_hash(self, start: int, end: int) -> bytes:
        if not 0 <= start < end <= len(self._leaves):
            raise InvalidProof(f"feuilles {start} à {end} absentes d'une liste de {len(self._leaves)}")
        return root(self._leaves[start:end])


def _as_hasher(tree: RangeHasher | Sequence[bytes]) -> RangeHasher:
    return tree if hasattr(tree, "range_hash") else _LeafList(tree)  # type: ignore[arg-type]


# --- Verification: hashes only -------------------------------------------------------------------------------------


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root that this audit path leads to from this leaf hash (RFC 9162 §2.1.3.2, steps 1 to 4), or a refusal
    when the path cannot belong to a leaf at this index in a tree of this size."""
    if not 0 <= index < size:
        raise InvalidProof(f"indice de feuille {index} hors de l'arbre de {size} feuilles")
    _check_hash(leaf, "empreinte de feuille")
    fn, sn, r = index, size - 1, leaf
    for position, p in enumerate(path):
        _check_hash(p, f"élément n° {position + 1} du chemin")
        if sn == 0:
            raise InvalidProof(f"chemin d'inclusion trop long ({len(path)} empreintes)")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof(f"chemin d'inclusion trop court ({len(path)} empreintes)")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> None:
    """Prove that `leaf` is the leaf at `index` of the tree of `size` leaves whose root is `expected_root`
    (RFC 9162 §2.1.3.2); raises InvalidProof otherwise."""
    _check_hash(expected_root, "racine")
    if root_from_inclusion_proof(index, size, leaf, path) != expected_root:
        raise InvalidProof("le chemin d'inclusion ne mène pas à la racine signée")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       path: Sequence[bytes]) -> None:
    """Prove that the tree of `new_size` leaves and root `new_root` extends, unchanged, the tree of `old_size`
    leaves and root `old_root` (RFC 9162 §2.1.4.2); raises InvalidProof otherwise."""
    _check_hash(old_root, "racine ancienne")
    _check_hash(new_root, "racine nouvelle")
    for position, c in enumerate(path):
        _check_hash(c, f"élément n° {position + 1} de la preuve")
    if not 0 <= old_size <= new_size:
        raise InvalidProof(f"l'arbre a rétréci : {old_size} feuilles avant, {new_size} après")
    if old_size == new_size:
        # Same size: the same tree, nothing to prove and nothing accepted as proof.
        if path:
            raise InvalidProof("preuve non vide entre deux arbres de même taille")
        if old_root != new_root:
            raise InvalidProof(f"deux racines différentes pour la même taille ({old_size} feuilles)")
        return
    if old_size == 0:
        # Every tree extends the empty one; its root can only be SHA-256("").
        if path:
            raise InvalidProof("preuve non vide depuis l'arbre vide")
        if old_root != EMPTY_ROOT:
            raise InvalidProof("racine de l'arbre vide incorrecte")
        return
    if not path:  # step 1
        raise InvalidProof("preuve de cohérence vide")
    proof = list(path)
    if old_size & (old_size - 1) == 0:  # step 2: the old tree is a complete subtree, its root the first node
        proof.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]  # step 5
    for c in proof[1:]:  # step 6
        if sn == 0:
            raise InvalidProof(f"preuve de cohérence trop longue ({len(path)} empreintes)")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 7
        raise InvalidProof(f"preuve de cohérence trop courte ({len(path)} empreintes)")
    if fr != old_root:
        raise InvalidProof(f"la preuve ne retrouve pas la racine ancienne ({old_size} feuilles) : "
                           "l'historique a été réécrit")
    if sr != new_root:
        raise InvalidProof(f"la preuve ne mène pas à la racine nouvelle ({new_size} feuilles)")
