"""Appending to the disclosure ledger inside the caller's transaction (DESIGN.md: "Audit and ledger entries
are written in the same transaction as the action they record").

An append locks the head, extends the Merkle log from the stored right edge (O(log n) hashes at worst),
inserts the entries and stores the new head. If anything fails the caller's transaction fails with it:
the act is not done, or not served, unrecorded (fail closed, issue 6 "Bad input")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from gesher.errors import Unavailable
from gesher.ledger import entries as ledger_entries
from gesher.ledger.entries import Entry, Kind
from gesher.ledger.merkle import EMPTY_ROOT, HASH_SIZE, MerkleLog, leaf_hash
from gesher.store import ledger as store


def now() -> datetime:
    return datetime.now(UTC)


def micros(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000 + at.microsecond


def ensure(conn: Connection) -> None:
    """Create the empty log's head unless it exists (`gesher init`)."""
    store.ensure_head(conn, EMPTY_ROOT)


def restore(head: store.Head) -> MerkleLog:
    hashes = [head.frontier[i : i + HASH_SIZE] for i in range(0, len(head.frontier), HASH_SIZE)]
    return MerkleLog(head.size, hashes)


def append_encoded(conn: Connection, encoded: Sequence[tuple[Entry, bytes]]) -> int:
    """Append entries already encoded (`ledger.entries.encode`) in the caller's transaction; return the
    index of the first."""
    return append_with(store.appender(conn), encoded)


def append_with(statements: store.Appender, encoded: Sequence[tuple[Entry, bytes]]) -> int:
    """`append_encoded` on the append statements of an open transaction: lock the head, extend the log,
    insert the rows, store the new head."""
    try:
        head = statements.head()
        if head is None:
            raise Unavailable("the disclosure ledger has no head: run `gesher init`; nothing was done")
        log = restore(head)
        first = log.size
        rows = []
        for entry, body in encoded:
            leaf = leaf_hash(body)
            index = log.append(leaf)
            rows.append((index, entry.kind.value, micros(entry.at), entry.fields.get("partner"), body, leaf))
        statements.append(rows, store.Head(log.size, log.root(), b"".join(log.frontier)))
    except (DBAPIError, statements.error) as error:
        cause = getattr(error, "orig", error)
        raise Unavailable(f"the disclosure ledger cannot be appended ({cause}); nothing was done") from None
    return first


def append(conn: Connection, *entries: Entry) -> int:
    """Validate, encode and append entries in the caller's transaction; return the index of the first."""
    return append_encoded(conn, [(e, ledger_entries.encode(e)) for e in entries])


def record(conn: Connection, kind: Kind, actor: str, **fields: Any) -> int:
    """Record one act (a policy load, a tier change, a release decision...) now; return its index."""
    return append(conn, ledger_entries.make(kind, now(), actor, **fields))
