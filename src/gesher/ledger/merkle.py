"""The Merkle tree of RFC 6962 / RFC 9162 section 2.1 (restated in C2SP `merkle-tree.md`): hashing, an
incremental append-only log, inclusion and consistency proofs and their verification.

- Leaf hash `SHA-256(0x00 || data)`, node hash `SHA-256(0x01 || left || right)` (RFC 9162 2.1.1): the
  prefixes keep a leaf from ever being mistaken for an interior node (second-preimage resistance).
- The Merkle Tree Hash of n leaves splits at k, the largest power of two smaller than n (RFC 9162 2.1.1);
  the empty tree hashes to SHA-256 of the empty string.
- `MerkleLog` keeps only the right edge of the tree (the roots of the perfect subtrees that make up its
  size, a "compact range"), so an append costs O(log n) hashes at worst and O(1) on average, and the root is
  a fold of at most log2(n) hashes.
- Proofs are computed from stored leaf hashes through the `LeafStore` protocol (the service implements it
  over the ledger table; `MemoryLeafStore` serves tests and benches). Perfect, aligned subtrees never change
  once complete, so an optional cache of their hashes turns proof generation from O(n) into O(log^2 n).
- Verification follows RFC 9162 2.1.3.2 and 2.1.4.2 step by step and raises `LedgerError` with a reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping, Sequence
from typing import Protocol

from gesher.ledger.errors import LedgerError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
# Ranges up to this many leaves are read in one call and folded; larger ones are split (and cached).
FOLD_CHUNK = 256

SubtreeCache = MutableMapping[tuple[int, int], bytes]
"""Hashes of perfect aligned subtrees, keyed by (level, index): the leaves from index * 2^level to
(index + 1) * 2^level - 1."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 2.1.1: the hash of one leaf, `SHA-256(0x00 || data)`."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 2.1.1: the hash of an interior node, `SHA-256(0x01 || left || right)`."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """RFC 9162 2.1.1: k, the largest power of two strictly smaller than n (n > 1), so k < n <= 2k."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes (RFC 9162 2.1.1), computed by appending them to a
    `MerkleLog` (linear time; the compact range yields the same largest-power-of-two split)."""
    log = MerkleLog()
    for h in hashes:
        log.append(h)
    return log.root()


class MerkleLog:
    """An append-only Merkle log that keeps only its right edge (the "compact range"): the roots of the
    perfect subtrees whose sizes are the binary digits of `size`, largest (leftmost) first. That is all an
    append and the root need; proofs need the leaf hashes (`LeafStore`). Restore a log from a stored size
    and frontier with `MerkleLog(size, frontier)`."""

    __slots__ = ("_frontier", "_size")

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        if size < 0 or len(frontier) != size.bit_count() or any(len(h) != HASH_SIZE for h in frontier):
            raise LedgerError(
                "bad-frontier", f"a frontier of a {size}-leaf log has {size.bit_count()} hashes"
            )
        self._size = size
        self._frontier = list(frontier)

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """The perfect-subtree roots of the right edge, largest first: store these to restore the log."""
        return tuple(self._frontier)

    def append(self, leaf: bytes) -> int:
        """Append one leaf hash (see `leaf_hash`) and return its index. Merges equal-sized perfect subtrees
        as a binary counter carries: one node hash per trailing 1 bit of the old size."""
        index, frontier, h = self._size, self._frontier, leaf
        n = index
        while n & 1:
            h = node_hash(frontier.pop(), h)
            n >>= 1
        frontier.append(h)
        self._size = index + 1
        return index

    def append_data(self, data: bytes) -> int:
        """Append the leaf whose content is `data` (hashed with `leaf_hash`); return its index."""
        return self.append(leaf_hash(data))

    def root(self) -> bytes:
        """The Merkle Tree Hash at the current size: the frontier folded right to left (RFC 9162 2.1.1)."""
        if not self._frontier:
            return EMPTY_ROOT
        h = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            h = node_hash(left, h)
        return h


class LeafStore(Protocol):
    """Where proofs read leaf hashes from: the ledger table in the service, a list in tests."""

    def size(self) -> int:
        """How many leaves are stored."""
        ...

    def leaf_hash(self, index: int) -> bytes:
        """The leaf hash at `index` (0 <= index < size())."""
        ...

    def leaf_hashes(self, start: int, stop: int) -> Sequence[bytes]:
        """The leaf hashes of indexes start..stop-1, in order, in one read."""
        ...


class MemoryLeafStore:
    """A `LeafStore` over a list, for tests and benches."""

    def __init__(self, hashes: Sequence[bytes] = ()) -> None:
        self.hashes = list(hashes)

    def size(self) -> int:
        """How many leaves are stored."""
        return len(self.hashes)

    def leaf_hash(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        return self.hashes[index]

    def leaf_hashes(self, start: int, stop: int) -> Sequence[bytes]:
        """The leaf hashes of start..stop-1."""
        return self.hashes[start:stop]

    def append(self, leaf: bytes) -> int:
        """Store one more leaf hash and return its index."""
        self.hashes.append(leaf)
        return len(self.hashes) - 1


def subtree_hash(store: LeafStore, start: int, stop: int, cache: SubtreeCache | None = None) -> bytes:
    """MTH(D[start:stop]) over stored leaf hashes (RFC 9162 2.1.1). With a `cache`, hashes of perfect
    aligned subtrees larger than `FOLD_CHUNK` are looked up or remembered: they never change once complete."""
    n = stop - start
    if n <= 0:
        return EMPTY_ROOT
    if n <= FOLD_CHUNK or cache is None:
        return root_from_leaf_hashes(store.leaf_hashes(start, stop))
    perfect = n & (n - 1) == 0 and start % n == 0
    key = (n.bit_length() - 1, start // n)
    if perfect and key in cache:
        return cache[key]
    k = split_point(n)
    h = node_hash(subtree_hash(store, start, start + k, cache), subtree_hash(store, start + k, stop, cache))
    if perfect:
        cache[key] = h
    return h


def tree_hash(store: LeafStore, size: int, cache: SubtreeCache | None = None) -> bytes:
    """The root of the tree of the first `size` stored leaves: the log's head at any past size."""
    _check_size(store, size)
    return subtree_hash(store, 0, size, cache)


def inclusion_proof(
    store: LeafStore, index: int, size: int, cache: SubtreeCache | None = None
) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH(m, D[n]): the sibling hashes from leaf `index` up to the root of the tree of
    size `size`, nearest first. At most ceil(log2 n) hashes; empty for a one-leaf tree."""
    _check_size(store, size)
    if not 0 <= index < size:
        raise LedgerError("index-out-of-range", f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, stop = 0, size
    while stop - start > 1:
        k = split_point(stop - start)
        if index < start + k:
            path.append(subtree_hash(store, start + k, stop, cache))
            stop = start + k
        else:
            path.append(subtree_hash(store, start, start + k, cache))
            start += k
    return path[::-1]


def consistency_proof(store: LeafStore, old: int, new: int, cache: SubtreeCache | None = None) -> list[bytes]:
    """RFC 9162 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true): the hashes that prove the tree of size
    `old` is a prefix of the tree of size `new`. Empty when old == new or old == 0 (nothing to prove)."""
    _check_size(store, new)
    if not 0 <= old <= new:
        raise LedgerError("bad-sizes", f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    return _subproof(store, old, 0, new, True, cache)[::-1]


def _subproof(
    store: LeafStore, m: int, start: int, stop: int, whole: bool, cache: SubtreeCache | None
) -> list[bytes]:
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[start:stop], b), returned root-side first (the caller reverses)."""
    n = stop - start
    if m == n:
        return [] if whole else [subtree_hash(store, start, stop, cache)]
    k = split_point(n)
    if m <= k:
        return [
            subtree_hash(store, start + k, stop, cache),
            *_subproof(store, m, start, start + k, whole, cache),
        ]
    return [
        subtree_hash(store, start, start + k, cache),
        *_subproof(store, m - k, start + k, stop, False, cache),
    ]


def _check_size(store: LeafStore, size: int) -> None:
    if not 0 <= size <= store.size():
        raise LedgerError("size-out-of-range", f"the log holds {store.size()} leaves, not {size}")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2: check that the leaf hash `leaf` is at `index` in the tree of size `size` whose
    root is `root`, using the inclusion `proof`. Raises `LedgerError` with the reason; returns on success."""
    if not 0 <= index < size:
        raise LedgerError("index-out-of-range", f"leaf {index} is not in a tree of size {size}")
    _check_hashes([leaf, root, *proof])
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise LedgerError(
                "proof-too-long", "the inclusion proof has more hashes than the tree size needs"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise LedgerError("proof-too-short", "the inclusion proof is too short for the tree size")
    if r != root:
        raise LedgerError(
            "root-mismatch", f"leaf {index} with this proof does not give the root of size {size}"
        )


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 2.1.4.2: check that the tree of size `old` with root `old_root` is a prefix of the tree of
    size `new` with root `new_root`. Edge cases as in the Go and C2SP verifiers: old > new fails; old == new
    needs an empty proof and equal roots; the empty tree (old == 0) is a prefix of every tree (empty proof).
    Raises `LedgerError` with the reason; returns on success."""
    _check_hashes([old_root, new_root, *proof])
    if not 0 <= old <= new:
        raise LedgerError("bad-sizes", f"a tree of size {new} cannot extend one of size {old}")
    if old in (0, new):
        _check_trivial_consistency(old, new, old_root, new_root, proof)
        return
    if not proof:
        raise LedgerError("proof-too-short", "the consistency proof is empty")
    fr, sr, sn = _fold_consistency(old, new, old_root, proof)
    if sn != 0:
        raise LedgerError("proof-too-short", "the consistency proof is too short for the tree sizes")
    if fr != old_root:
        raise LedgerError("root-mismatch", f"the proof does not give the old root of size {old}")
    if sr != new_root:
        raise LedgerError("root-mismatch", f"the proof does not give the new root of size {new}")


def _check_trivial_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    if proof:
        raise LedgerError("proof-too-long", f"a proof from size {old} to {new} must be empty")
    if old == 0 and old_root != EMPTY_ROOT:
        raise LedgerError("root-mismatch", "the root of an empty tree is SHA-256 of the empty string")
    if old == new and old_root != new_root:
        raise LedgerError("root-mismatch", f"two different roots for the same size {old}")


def _fold_consistency(
    old: int, new: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes, int]:
    """RFC 9162 2.1.4.2 steps 2-6: returns (fr, sr, sn) for the final comparisons of step 7."""
    path = [old_root, *proof] if old & (old - 1) == 0 else list(proof)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise LedgerError(
                "proof-too-long", "the consistency proof has more hashes than the tree sizes need"
            )
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr, sr, sn


def _check_hashes(hashes: Sequence[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise LedgerError("bad-hash", f"a hash must be {HASH_SIZE} bytes, not {len(h)}")
