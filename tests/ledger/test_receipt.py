"""Receipts: a partner verifies, with only the public key, that its entry is in the signed log and that a
newer signed head extends an older one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gesher.ledger.checkpoint import Signer, generate_signer, sign_checkpoint
from gesher.ledger.entries import Served, disclosure, encode, make
from gesher.ledger.errors import LedgerError
from gesher.ledger.merkle import MemoryLeafStore, MerkleLog, consistency_proof, inclusion_proof, leaf_hash
from gesher.ledger.receipt import (
    receipt_document,
    verify_consistency,
    verify_receipt,
    verify_receipt_document,
)

AT = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
ORIGIN = "gesher.example/ledger"


class Ledger:
    """A minimal in-memory ledger, as the service will keep one: entry bytes, leaf hashes, a compact log."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.entries: list[bytes] = []
        self.store = MemoryLeafStore()
        self.log = MerkleLog()

    def append(self, data: bytes) -> int:
        self.entries.append(data)
        self.store.append(leaf_hash(data))
        return self.log.append(leaf_hash(data))

    def checkpoint(self) -> bytes:
        return sign_checkpoint(
            ORIGIN, self.log.size, self.log.root(), self.signer.private_key, self.signer.name
        )


def entry(i: int) -> bytes:
    served = [
        Served(f"indicator--{i}-{j}", "2026-11-01T00:00:00.000Z", "ab" * 32, "tier-2") for j in range(3)
    ]
    return encode(
        disclosure(AT, "system", partner=f"p{i % 4}", endpoint="GET /x", policy_version=1, served=served)
    )


@pytest.fixture
def ledger() -> Ledger:
    book = Ledger(generate_signer(ORIGIN))
    for i in range(21):
        book.append(entry(i))
    return book


def test_a_receipt_verifies_with_only_the_public_key(ledger: Ledger) -> None:
    note, vkey = ledger.checkpoint(), ledger.signer.verifier.vkey
    for index in (0, 7, 20):
        proof = inclusion_proof(ledger.store, index, ledger.log.size)
        receipt = verify_receipt(ledger.entries[index], index, proof, note, vkey, origin=ORIGIN)
        assert receipt.index == index and receipt.checkpoint.size == 21
        assert receipt.entry.fields["partner"] == f"p{index % 4}"


def test_receipts_refuse_with_the_index_and_reason(ledger: Ledger) -> None:
    note, vkey = ledger.checkpoint(), ledger.signer.verifier.vkey
    proof = inclusion_proof(ledger.store, 7, 21)
    cases = [
        (ledger.entries[8], 7, proof, note, vkey, "root-mismatch"),  # another entry
        (ledger.entries[7], 8, proof, note, vkey, "root-mismatch"),  # another index
        (ledger.entries[7], 7, proof[:-1], note, vkey, "proof-too-short"),
        (ledger.entries[7].replace(b"p3", b"p2"), 7, proof, note, vkey, "root-mismatch"),  # a tampered entry
        (ledger.entries[7] + b" ", 7, proof, note, vkey, "not-canonical"),
        (ledger.entries[7], 7, proof, note, generate_signer(ORIGIN).verifier.vkey, "no-known-signature"),
    ]
    for data, index, path, signed_note, key, reason in cases:
        with pytest.raises(LedgerError) as error:
            verify_receipt(data, index, path, signed_note, key)
        assert error.value.reason == reason
        if reason != "no-known-signature":
            assert error.value.index == index and f"entry {index}" in error.value.description


def test_a_receipt_document_round_trips(ledger: Ledger) -> None:
    proof = inclusion_proof(ledger.store, 3, 21)
    document = receipt_document(ledger.entries[3], 3, proof, ledger.checkpoint())
    assert set(json.loads(document)) == {"index", "entry", "inclusion_proof", "checkpoint"}
    assert verify_receipt_document(document, ledger.signer.verifier).index == 3
    for bad in (
        b"[]",
        b"{",
        json.dumps({"index": True, "entry": "", "inclusion_proof": [], "checkpoint": ""}).encode(),
    ):
        with pytest.raises(LedgerError, match="receipt"):
            verify_receipt_document(bad, ledger.signer.verifier)


def test_a_newer_head_extends_an_older_one(ledger: Ledger) -> None:
    old = ledger.checkpoint()
    for i in range(21, 50):
        ledger.append(entry(i))
    new = ledger.checkpoint()
    proof = consistency_proof(ledger.store, 21, 50)
    first, second = verify_consistency(old, new, proof, ledger.signer.verifier.vkey)
    assert (first.size, second.size) == (21, 50)
    verify_consistency(new, new, [], ledger.signer.verifier)


def test_a_rewritten_history_is_caught(ledger: Ledger) -> None:
    old = ledger.checkpoint()
    forked = Ledger(ledger.signer)  # the same key signs a log whose entry 5 was quietly edited
    for i, data in enumerate(ledger.entries):
        forked.append(entry(99) if i == 5 else data)
    for i in range(21, 30):
        forked.append(entry(i))
    with pytest.raises(LedgerError, match="old root"):
        verify_consistency(
            old, forked.checkpoint(), consistency_proof(forked.store, 21, 30), ledger.signer.verifier
        )


def test_checkpoints_of_different_logs_or_keys_are_refused(ledger: Ledger) -> None:
    other_signer = generate_signer("other.example/log")
    other = sign_checkpoint(
        "other.example/log", 21, ledger.log.root(), other_signer.private_key, other_signer.name
    )
    with pytest.raises(LedgerError):
        verify_consistency(ledger.checkpoint(), other, [], [ledger.signer.verifier, other_signer.verifier])
    with pytest.raises(LedgerError):
        verify_consistency(ledger.checkpoint(), ledger.checkpoint(), [], other_signer.verifier)


def test_every_entry_kind_can_be_logged_and_proven(ledger: Ledger) -> None:
    index = ledger.append(encode(make("psi_query", AT, "p1", partner="p1", mode="cardinality", client_size=3,
                                      server_size=9)))  # fmt: skip
    proof = inclusion_proof(ledger.store, index, ledger.log.size)
    receipt = verify_receipt(ledger.entries[index], index, proof, ledger.checkpoint(), ledger.signer.verifier)
    assert receipt.entry.fields == {
        "partner": "p1",
        "mode": "cardinality",
        "client_size": 3,
        "server_size": 9,
    }
