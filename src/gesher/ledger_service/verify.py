"""`gesher ledger verify`: recompute the whole ledger from its stored bytes and say where it first goes wrong
(issue 6, "Operator verification").

Checked in one pass, in index order: indices are dense; each body is a valid entry in canonical form
(RFC 8785) whose leaf hash is the stored one and whose kind, time and partner agree with the indexed
columns; the Merkle root at every stored checkpoint's size equals the root that checkpoint signed, with a
signature by one of the ledger's keys; the final root, size and right edge equal the stored head.

A changed byte in an entry is named by its index. An alteration that also recomputes the leaf hashes and
the head is caught by the first signed checkpoint after it (the report gives the range it lies in): a
signature cannot be recomputed without the private key. Entries after the newest checkpoint are only as
safe as the head; partners holding later checkpoints or receipts protect them (consistency proofs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from gesher.ledger.checkpoint import Verifier, open_checkpoint
from gesher.ledger.entries import decode
from gesher.ledger.errors import LedgerError
from gesher.ledger.merkle import MerkleLog, leaf_hash
from gesher.ledger_service.log import micros
from gesher.store import ledger as store
from gesher.store.ledger import StoredCheckpoint


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong: the entry index (None for the head or a checkpoint), why, and what."""

    index: int | None
    reason: str
    message: str


@dataclass
class Verification:
    size: int = 0
    root: bytes = b""
    checkpoints: int = 0  # signed checkpoints checked
    last_checkpoint: int = 0  # the size of the last one that matched
    problem: Problem | None = None
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Stop(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def verify(
    conn: Connection, verifiers: list[Verifier], origin: str, progress: Callable[[int], None] | None = None
) -> Verification:
    """Verify every entry, checkpoint and the head; stop at the first problem and report it."""
    result = Verification()
    log = MerkleLog()
    pending = list(reversed(store.checkpoints(conn)))  # popped smallest first
    try:
        _check_checkpoint_at(log, pending, verifiers, origin, result)
        for idx, kind, at, partner, body, stored_leaf in store.entries(conn):
            _check_entry(idx, kind, at, partner, body, stored_leaf, log)
            log.append(stored_leaf)
            result.kinds[kind] = result.kinds.get(kind, 0) + 1
            _check_checkpoint_at(log, pending, verifiers, origin, result)
            if progress is not None and log.size % 10_000 == 0:
                progress(log.size)
        if pending:
            raise _Stop(
                Problem(
                    None,
                    "checkpoint-beyond-log",
                    f"a checkpoint signs size {pending[-1].size} "
                    f"but the log holds {log.size} entries: entries were removed",
                )
            )
        _check_head(conn, log)
    except _Stop as stop:
        result.problem = stop.problem
    result.size, result.root = log.size, log.root()
    return result


def _check_entry(
    idx: int, kind: str, at: int, partner: str | None, body: bytes, stored_leaf: bytes, log: MerkleLog
) -> None:
    if idx != log.size:
        missing = f"entries {log.size}..{idx - 1} are missing" if idx > log.size else "an index repeats"
        raise _Stop(Problem(log.size, "gap", f"expected entry {log.size}, found {idx}: {missing}"))
    if leaf_hash(body) != stored_leaf:
        raise _Stop(Problem(idx, "leaf-hash", f"entry {idx}: its bytes do not hash to its stored leaf hash"))
    try:
        entry = decode(body)
    except LedgerError as error:
        raise _Stop(Problem(idx, error.reason, f"entry {idx}: {error.description}")) from None
    if (entry.kind.value, micros(entry.at), entry.fields.get("partner")) != (kind, at, partner):
        raise _Stop(
            Problem(idx, "columns", f"entry {idx}: its kind, time or partner columns disagree with it")
        )


def _check_checkpoint_at(
    log: MerkleLog,
    pending: list[StoredCheckpoint],
    verifiers: list[Verifier],
    origin: str,
    result: Verification,
) -> None:
    while pending and pending[-1].size == log.size:
        stored = pending.pop()
        where = f"the checkpoint at size {stored.size}"
        try:
            signed = open_checkpoint(stored.note.encode("utf-8"), verifiers, origin)
        except LedgerError as error:
            raise _Stop(
                Problem(None, error.reason, f"{where} does not verify: {error.description}")
            ) from None
        if signed.size != stored.size or signed.root != stored.root:
            raise _Stop(
                Problem(None, "checkpoint-columns", f"{where}: its columns disagree with its signed note")
            )
        if log.root() != signed.root:
            raise _Stop(
                Problem(
                    None,
                    "root-mismatch",
                    f"the log's root at size {stored.size} is not the one signed then: an entry between "
                    f"{result.last_checkpoint} and {stored.size - 1} was altered (with its leaf hash)",
                )
            )
        result.checkpoints += 1
        result.last_checkpoint = stored.size


def _check_head(conn: Connection, log: MerkleLog) -> None:
    head = store.head(conn)
    if head is None:
        raise _Stop(Problem(None, "no-head", "the ledger has no head"))
    if head.size != log.size:
        raise _Stop(
            Problem(None, "head-size", f"the head says {head.size} entries, the log holds {log.size}")
        )
    if head.root != log.root() or head.frontier != b"".join(log.frontier):
        raise _Stop(Problem(None, "head-root", f"the head's root at size {head.size} is not the log's"))
