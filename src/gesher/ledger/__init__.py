"""The disclosure ledger (issue 6): a tamper-evident, verifiable record of everything that leaves. Pure: no
database, no web, no clock (callers pass times). The service stores entries and leaf hashes, appends in the
same transaction as each act, and signs checkpoints; partners verify receipts with the public key only.

Modules, one concept each:
- `merkle`: RFC 6962/9162 hashing (`leaf_hash`, `node_hash`, `EMPTY_ROOT`), `MerkleLog` (append-only,
  compact range: `append`, `root`, `size`, `frontier`), the `LeafStore` protocol and `MemoryLeafStore`,
  `tree_hash`, `subtree_hash`, `inclusion_proof`, `consistency_proof`, `verify_inclusion`,
  `verify_consistency`, `root_from_leaf_hashes`.
- `entries`: `Entry`, `Kind`, `Served`; `make`, `disclosure`, `served`, `validate`, `encode` (RFC 8785),
  `decode`, `entry_leaf_hash`, `format_at`.
- `checkpoint`: C2SP tlog-checkpoint in a C2SP signed-note: `Signer` (`generate_signer`, `parse_skey`,
  `.skey`), `Verifier` (`parse_vkey`, `.vkey`, `key_id`), `sign_note`, `split_note`, `open_note`,
  `Checkpoint`, `checkpoint_text`, `parse_checkpoint_text`, `sign_checkpoint`, `open_checkpoint`.
- `receipt`: `verify_receipt`, `verify_consistency`, `Receipt`, `receipt_document`,
  `verify_receipt_document`.
- `canary`: leak tracing: `canaries`, `canary_tag`, `Canary`, `CanaryKind`, `trace`, `Attribution`,
  `extract_values`, `scan_text`, `normalise`.
- `errors`: `LedgerError(reason, message, index=None)`, a `GesherError`; `reason` is a stable code.
"""
