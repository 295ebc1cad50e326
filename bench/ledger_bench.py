"""The disclosure ledger's in-process cost (issue 6, "Performance"):

- appends: canonical entries (RFC 8785) hashed into the compact-range Merkle log, entries per second, for
  small entries (an ingest or policy event) and, separately, the raw Merkle append of precomputed leaf
  hashes; target >= 100,000 entries/s;
- a 1,000-object disclosure page: the cost of its ONE entry (canonical encoding + append), per page;
- verifying a log of N entries (default 1,000,000): recompute every leaf hash from the stored entry bytes
  and the root from all leaves, as `gesher ledger verify` will; target < 30 s;
- proofs over the stored leaf hashes, with and without the perfect-subtree cache; one Ed25519 checkpoint.

python -m bench.ledger_bench [--entries N]
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime

from gesher.ledger.checkpoint import generate_signer, open_checkpoint, sign_checkpoint
from gesher.ledger.entries import Served, decode, disclosure, encode, make
from gesher.ledger.merkle import MemoryLeafStore, MerkleLog, consistency_proof, inclusion_proof, leaf_hash

APPEND_TARGET = 100_000  # entries/s
VERIFY_TARGET = 30.0  # seconds for 1,000,000 entries
AT = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)


def _small_entries(n: int) -> tuple[list[bytes], float]:
    """The entries' canonical bytes, and the seconds building and encoding them took."""
    started = time.perf_counter()
    data = [
        encode(make("alert", AT, "system", alert=f"alert--{i}", level="high", organisations=i % 7))
        for i in range(n)
    ]
    return data, time.perf_counter() - started


def bench_decode(data: list[bytes]) -> float:
    """Entries/s for `decode` (parse, validate, canonical re-encoding check) on a sample."""
    sample = data[:20_000]
    started = time.perf_counter()
    for item in sample:
        decode(item)
    return len(sample) / (time.perf_counter() - started)


def bench_appends(data: list[bytes]) -> tuple[float, float]:
    """Entries/s for hashing entry bytes into the log, and for the Merkle append alone."""
    log, started = MerkleLog(), time.perf_counter()
    for item in data:
        log.append(leaf_hash(item))
    entries_rate = len(data) / (time.perf_counter() - started)
    leaves = [leaf_hash(item) for item in data]
    log, started = MerkleLog(), time.perf_counter()
    for leaf in leaves:
        log.append(leaf)
    return entries_rate, len(leaves) / (time.perf_counter() - started)


def bench_page(pages: int = 50) -> float:
    """Milliseconds to encode and append one 1,000-object disclosure entry."""
    served = [Served(f"indicator--{i:08d}-0000-4000-8000-000000000000", "2026-11-01T00:00:00.000Z", "ab" * 32,
                     f"rule-{i % 3}") for i in range(1000)]  # fmt: skip
    log, started = MerkleLog(), time.perf_counter()
    for _ in range(pages):
        entry = disclosure(AT, "system", partner="p", endpoint="GET /x", policy_version=1, served=served)
        log.append(leaf_hash(encode(entry)))
    return (time.perf_counter() - started) / pages * 1000


def bench_verify(data: list[bytes]) -> tuple[float, bytes, MemoryLeafStore]:
    """Seconds to recompute every leaf hash and the root from the stored entry bytes."""
    started = time.perf_counter()
    log, hashes = MerkleLog(), []
    for item in data:
        h = leaf_hash(item)
        hashes.append(h)
        log.append(h)
    return time.perf_counter() - started, log.root(), MemoryLeafStore(hashes)


def bench_proofs(store: MemoryLeafStore) -> None:
    n = store.size()
    started = time.perf_counter()
    inclusion_proof(store, n // 3, n)
    cold = time.perf_counter() - started
    cache: dict[tuple[int, int], bytes] = {}
    inclusion_proof(store, n // 3, n, cache)
    started = time.perf_counter()
    for i in range(100):
        inclusion_proof(store, (i * 7919) % n, n, cache)
        consistency_proof(store, max(1, (i * 104729) % n), n, cache)
    warm = (time.perf_counter() - started) / 200
    print(f"proofs   uncached {cold * 1000:,.0f} ms each; with the subtree cache {warm * 1e6:,.0f} us each")


def bench_checkpoint(size: int, root: bytes) -> None:
    signer = generate_signer("gesher.example/ledger")
    started = time.perf_counter()
    for _ in range(200):
        note = sign_checkpoint(signer.name, size, root, signer.private_key, signer.name)
    signing = (time.perf_counter() - started) / 200
    started = time.perf_counter()
    for _ in range(200):
        open_checkpoint(note, signer.verifier)
    opening = (time.perf_counter() - started) / 200
    print(f"checkpoint  sign {signing * 1e6:,.0f} us   open+verify {opening * 1e6:,.0f} us")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {args.entries:,} entries")
    data, encoding = _small_entries(args.entries)
    rate, raw = bench_appends(data)
    end_to_end = args.entries / (encoding + args.entries / rate)
    print(
        f"appends  {rate:>12,.0f} entries/s   ratio {rate / APPEND_TARGET:.1f}x (target >= {APPEND_TARGET:,})"
    )
    print(f"         {raw:>12,.0f} leaf hashes/s (Merkle append alone)")
    print(f"         {end_to_end:>12,.0f} entries/s including building and RFC 8785 encoding of each entry "
          f"(ratio {end_to_end / APPEND_TARGET:.2f}x)")  # fmt: skip
    print(f"a 1,000-object disclosure page: one entry, {bench_page():.1f} ms to encode and append")
    seconds, root, store = bench_verify(data)
    scaled = seconds * 1_000_000 / args.entries
    print(f"verify   {seconds:.1f} s for {args.entries:,} entries ({scaled:.1f} s per 1,000,000; target < "
          f"{VERIFY_TARGET:.0f} s, ratio {VERIFY_TARGET / scaled:.1f}x)")  # fmt: skip
    full = bench_decode(data)
    print(
        f"         decoding with validation: {full:,.0f} entries/s ({1_000_000 / full:.0f} s per 1,000,000)"
    )
    bench_proofs(store)
    bench_checkpoint(store.size(), root)


if __name__ == "__main__":
    main()
