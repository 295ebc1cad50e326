"""What a partner checks with only the exchange's public key (issue 6, "Receipts for partners").

- `verify_receipt`: the entry bytes a partner was given (its disclosure, say) are leaf `index` of the log
  whose head the exchange signed: the checkpoint verifies (C2SP signed-note), the entry is well formed and
  canonical (RFC 8785), and the inclusion proof leads from its leaf hash to the signed root (RFC 9162
  2.1.3.2).
- `verify_consistency`: a newer signed head extends an older one (RFC 9162 2.1.4.2), so the exchange cannot
  have rewritten what it showed before. Two signed heads that fail this are proof of misbehaviour.
- A receipt travels as one JSON document (`receipt_document` / `verify_receipt_document`), the shape the
  REST endpoint returns and `gesher ledger verify-receipt FILE` reads:
  `{"index": n, "entry": base64, "inclusion_proof": [base64, ...], "checkpoint": "<signed note text>"}`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gesher.ledger import merkle
from gesher.ledger.checkpoint import Checkpoint, Verifier, b64decode, b64encode, open_checkpoint
from gesher.ledger.entries import Entry, decode
from gesher.ledger.errors import LedgerError

VerifierKey = Verifier | str | Sequence[Verifier]


@dataclass(frozen=True)
class Receipt:
    """A verified receipt: the entry, its index, and the signed head that includes it."""

    entry: Entry
    index: int
    checkpoint: Checkpoint


def verify_receipt(
    entry_bytes: bytes,
    index: int,
    inclusion_proof: Sequence[bytes],
    signed_checkpoint: bytes,
    verifier_key: VerifierKey,
    origin: str | None = None,
) -> Receipt:
    """Check that `entry_bytes` is entry `index` of the log whose head `signed_checkpoint` the holder of
    `verifier_key` signed. Returns the `Receipt`; raises `LedgerError` naming the reason and the index."""
    checkpoint = open_checkpoint(signed_checkpoint, verifier_key, origin)
    try:
        entry = decode(entry_bytes)
        leaf = merkle.leaf_hash(entry_bytes)
        merkle.verify_inclusion(leaf, index, checkpoint.size, list(inclusion_proof), checkpoint.root)
    except LedgerError as error:
        raise LedgerError(error.reason, error.description, index=index) from None
    return Receipt(entry, index, checkpoint)


def verify_consistency(
    old_checkpoint: bytes,
    new_checkpoint: bytes,
    proof: Sequence[bytes],
    verifier_key: VerifierKey,
) -> tuple[Checkpoint, Checkpoint]:
    """Check that the signed head `new_checkpoint` extends `old_checkpoint` (same log, RFC 9162 2.1.4.2).
    Returns both verified checkpoints; raises `LedgerError` with the reason."""
    old = open_checkpoint(old_checkpoint, verifier_key)
    new = open_checkpoint(new_checkpoint, verifier_key, old.origin)
    merkle.verify_consistency(old.size, new.size, old.root, new.root, list(proof))
    return old, new


def receipt_document(
    entry_bytes: bytes, index: int, inclusion_proof: Sequence[bytes], checkpoint: bytes
) -> bytes:
    """The JSON document a partner receives for one entry (REST receipt endpoint, `verify-receipt FILE`)."""
    document = {
        "index": index,
        "entry": b64encode(entry_bytes),
        "inclusion_proof": [b64encode(h) for h in inclusion_proof],
        "checkpoint": checkpoint.decode("utf-8"),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def verify_receipt_document(document: bytes, verifier_key: VerifierKey, origin: str | None = None) -> Receipt:
    """Read a receipt document (see `receipt_document`) and verify it with `verify_receipt`."""
    fields = _receipt_fields(document)
    proof = [b64decode(h, "an inclusion proof hash") for h in fields["inclusion_proof"]]
    entry = b64decode(fields["entry"], "the entry")
    return verify_receipt(
        entry, fields["index"], proof, fields["checkpoint"].encode("utf-8"), verifier_key, origin
    )


def _receipt_fields(document: bytes) -> dict[str, Any]:
    try:
        fields: Any = json.loads(document)
    except ValueError:
        raise LedgerError("malformed-receipt", "a receipt is a JSON object") from None
    index = fields.get("index") if isinstance(fields, dict) else None
    ok = isinstance(index, int) and not isinstance(index, bool) and index >= 0
    ok = ok and isinstance(fields.get("entry"), str) and isinstance(fields.get("checkpoint"), str)
    proof = fields.get("inclusion_proof") if ok else None
    if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
        raise LedgerError("malformed-receipt", "a receipt has index, entry, inclusion_proof and checkpoint")
    return dict(fields)
