"""The Merkle core against RFC 6962/9162: known answers from the certificate-transparency reference tests
(the 8-leaf tree of the Go and C++ implementations), cross-checked with a naive recursive implementation of
the RFC 9162 2.1 definitions written here; properties over random sizes; the verification edge cases."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gesher.ledger.errors import LedgerError
from gesher.ledger.merkle import (
    EMPTY_ROOT,
    MemoryLeafStore,
    MerkleLog,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    subtree_hash,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
ROOTS = {  # size -> root, certificate-transparency merkle_test.go / merkle_tree_test.cc
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# --- a naive reference, straight from the RFC 9162 2.1 definitions, on lists of leaf data -----------------


def ref_mth(d: list[bytes]) -> bytes:
    """RFC 9162 2.1.1 MTH(D[n]), recursively."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b)."""
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def store_of(data: list[bytes]) -> MemoryLeafStore:
    return MemoryLeafStore([leaf_hash(x) for x in data])


def hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def unhex(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def data(n: int, salt: int = 0) -> list[bytes]:
    return [f"entry {salt} {i}".encode() for i in range(n)]


# --- known answers ----------------------------------------------------------------------------------------


def test_the_empty_tree_hashes_to_sha256_of_the_empty_string() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MerkleLog().root() == EMPTY_ROOT == tree_hash(MemoryLeafStore(), 0) == ref_mth([])


def test_leaf_and_node_hashes_use_the_domain_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots_of_the_reference_tree(size: int) -> None:
    expected = ROOTS[size]
    assert ref_mth(LEAVES[:size]).hex() == expected  # the naive reference agrees with the published vector
    assert tree_hash(store_of(LEAVES), size).hex() == expected
    log = MerkleLog()
    for leaf in LEAVES[:size]:
        log.append_data(leaf)
    assert log.root().hex() == expected


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_of_the_reference_tree(index: int, size: int, proof: list[str]) -> None:
    assert hexes(ref_path(index, LEAVES[:size])) == proof
    assert hexes(inclusion_proof(store_of(LEAVES), index, size)) == proof
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, unhex(proof), bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_of_the_reference_tree(old: int, new: int, proof: list[str]) -> None:
    if old < new:
        assert hexes(ref_subproof(old, LEAVES[:new], True)) == proof
    assert hexes(consistency_proof(store_of(LEAVES), old, new)) == proof
    verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), unhex(proof))


def test_inclusion_proof_lengths_of_a_seven_leaf_tree_match_c2sp() -> None:
    """C2SP merkle-tree / reference 5.2: d[6] in a 7-leaf tree needs 2 hashes, the others 3."""
    store = store_of(data(7))
    assert [len(inclusion_proof(store, i, 7)) for i in range(7)] == [3, 3, 3, 3, 3, 3, 2]


# --- the implementation agrees with the reference everywhere ----------------------------------------------


def test_every_proof_up_to_40_leaves_matches_the_reference_and_verifies() -> None:
    leaves = data(40)
    store = store_of(leaves)
    for n in range(1, 41):
        root = ref_mth(leaves[:n])
        assert tree_hash(store, n) == root
        for m in range(n):
            proof = inclusion_proof(store, m, n)
            assert proof == ref_path(m, leaves[:n])
            verify_inclusion(leaf_hash(leaves[m]), m, n, proof, root)
        for m in range(1, n):
            proof = consistency_proof(store, m, n)
            assert proof == ref_subproof(m, leaves[:n], True)
            verify_consistency(m, n, ref_mth(leaves[:m]), root, proof)


def test_the_subtree_cache_changes_nothing_but_speed() -> None:
    store = store_of(data(3000))
    cache: dict[tuple[int, int], bytes] = {}
    for n in (1, 256, 257, 1024, 2047, 3000):
        assert tree_hash(store, n, cache) == tree_hash(store, n)
        for m in (0, n // 3, n - 1):
            assert inclusion_proof(store, m, n, cache) == inclusion_proof(store, m, n)
            assert consistency_proof(store, m, n, cache) == consistency_proof(store, m, n)
    assert cache and all(len(h) == 32 for h in cache.values())
    assert subtree_hash(store, 1024, 2048, cache) == cache[(10, 1)]


def test_a_log_restored_from_its_frontier_carries_on() -> None:
    leaves = data(100)
    log = MerkleLog()
    for leaf in leaves[:37]:
        log.append_data(leaf)
    restored = MerkleLog(log.size, log.frontier)
    for leaf in leaves[37:]:
        assert restored.append_data(leaf) == log.append_data(leaf)
    assert restored.root() == log.root() == ref_mth(leaves)
    assert root_from_leaf_hashes([leaf_hash(x) for x in leaves]) == log.root()
    with pytest.raises(LedgerError, match="frontier"):
        MerkleLog(36, log.frontier)  # 100 = 0b1100100 needs 3 hashes, 36 = 0b100100 only 2
    with pytest.raises(LedgerError, match="frontier"):
        MerkleLog(1, [b"short"])


# --- hypothesis: proofs verify, and any flipped byte breaks them ------------------------------------------


def flip(h: bytes, position: int) -> bytes:
    i = position % len(h)
    return h[:i] + bytes([h[i] ^ 0x01]) + h[i + 1 :]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_inclusion_proof_verifies_and_tampering_fails(n: int, draw: st.DataObject) -> None:
    leaves = data(n)
    store, root = store_of(leaves), ref_mth(leaves)
    m = draw.draw(st.integers(0, n - 1))
    position = draw.draw(st.integers(0, 31))
    proof = inclusion_proof(store, m, n)
    leaf = leaf_hash(leaves[m])
    verify_inclusion(leaf, m, n, proof, root)
    with pytest.raises(LedgerError):
        verify_inclusion(flip(leaf, position), m, n, proof, root)
    with pytest.raises(LedgerError):
        verify_inclusion(leaf, m, n, proof, flip(root, position))
    for i in range(len(proof)):
        with pytest.raises(LedgerError):
            verify_inclusion(leaf, m, n, [*proof[:i], flip(proof[i], position), *proof[i + 1 :]], root)
    other = data(n, salt=1)  # another log: its leaf and proof do not lead to our root
    with pytest.raises(LedgerError):
        verify_inclusion(leaf_hash(other[m]), m, n, inclusion_proof(store_of(other), m, n), root)
    if n > 1:  # (a one-leaf tree has an empty proof)
        with pytest.raises(LedgerError):
            verify_inclusion(leaf, m, n, inclusion_proof(store_of(other), m, n), root)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_consistency_proof_verifies_and_tampering_fails(n: int, draw: st.DataObject) -> None:
    leaves = data(n)
    store = store_of(leaves)
    m = draw.draw(st.integers(1, n))
    position = draw.draw(st.integers(0, 31))
    old, new = ref_mth(leaves[:m]), ref_mth(leaves)
    proof = consistency_proof(store, m, n)
    verify_consistency(m, n, old, new, proof)
    with pytest.raises(LedgerError):
        verify_consistency(m, n, flip(old, position), new, proof)
    with pytest.raises(LedgerError):
        verify_consistency(m, n, old, flip(new, position), proof)
    for i in range(len(proof)):
        with pytest.raises(LedgerError):
            verify_consistency(m, n, old, new, [*proof[:i], flip(proof[i], position), *proof[i + 1 :]])
    if m < n:  # another log with the same sizes
        other = store_of(data(n, salt=1))
        with pytest.raises(LedgerError):
            verify_consistency(m, n, old, new, consistency_proof(other, m, n))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 200), st.data())
def test_proofs_of_the_wrong_length_fail(n: int, draw: st.DataObject) -> None:
    leaves = data(n)
    store, root = store_of(leaves), ref_mth(leaves)
    m = draw.draw(st.integers(0, n - 1))
    proof = inclusion_proof(store, m, n)
    leaf = leaf_hash(leaves[m])
    for wrong in (proof[:-1], [*proof, root]):
        with pytest.raises(LedgerError):
            verify_inclusion(leaf, m, n, wrong, root)
    old = draw.draw(st.integers(1, n - 1))
    cproof = consistency_proof(store, old, n)
    for wrong in (cproof[:-1], [*cproof, root]):
        with pytest.raises(LedgerError):
            verify_consistency(old, n, ref_mth(leaves[:old]), root, wrong)


# --- verification edge cases (RFC 9162 2.1.3.2, 2.1.4.2) ---------------------------------------------------


def test_inclusion_edge_cases() -> None:
    leaf = leaf_hash(b"only")
    verify_inclusion(leaf, 0, 1, [], leaf)  # size 1: the leaf is the root, the proof is empty
    for index, size in ((0, 0), (1, 1), (-1, 5), (5, 5)):
        with pytest.raises(LedgerError, match="not in a tree"):
            verify_inclusion(leaf, index, size, [], leaf)
    with pytest.raises(LedgerError, match="32 bytes"):
        verify_inclusion(leaf[:31], 0, 1, [], leaf)
    with pytest.raises(LedgerError) as error:
        verify_inclusion(leaf, 0, 1, [leaf], leaf)
    assert error.value.reason == "proof-too-long"


def test_consistency_edge_cases() -> None:
    a, b = ref_mth(data(3)), ref_mth(data(4))
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 4, EMPTY_ROOT, b, [])  # the empty tree is a prefix of every tree
    verify_consistency(3, 3, a, a, [])  # first == second: empty proof, equal roots
    cases = [
        (3, 3, a, b, [], "root-mismatch"),
        (3, 3, a, a, [a], "proof-too-long"),
        (0, 4, a, b, [], "root-mismatch"),
        (0, 4, EMPTY_ROOT, b, [a], "proof-too-long"),
        (4, 3, b, a, [], "bad-sizes"),
        (3, 4, a, b, [], "proof-too-short"),
    ]
    for old, new, old_root, new_root, proof, reason in cases:
        with pytest.raises(LedgerError) as error:
            verify_consistency(old, new, old_root, new_root, proof)
        assert error.value.reason == reason, (old, new)


def test_proofs_refuse_sizes_beyond_the_store() -> None:
    store = store_of(data(5))
    with pytest.raises(LedgerError):
        inclusion_proof(store, 0, 6)
    with pytest.raises(LedgerError):
        inclusion_proof(store, 5, 5)
    with pytest.raises(LedgerError):
        consistency_proof(store, 4, 6)
    with pytest.raises(LedgerError):
        consistency_proof(store, 5, 4)
    assert consistency_proof(store, 0, 5) == consistency_proof(store, 5, 5) == []
