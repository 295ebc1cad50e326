"""A node's disclosure ledger: its origin and signing key, disclosures recorded per response, signed
checkpoints, and the proofs partners ask for (issue 6, "Receipts for partners").

Perfect subtrees never change once complete, so their hashes are cached per process: the first proof over a
large log reads its leaf hashes once; later proofs cost O(log^2 n) hashes and a few small reads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from gesher.errors import NotFound, Unavailable
from gesher.ledger import entries, merkle
from gesher.ledger.checkpoint import (
    Signer,
    Verifier,
    checkpoint_text,
    parse_vkey,
    sign_checkpoint,
    sign_note,
)
from gesher.ledger.entries import Kind, Served
from gesher.ledger.errors import LedgerError
from gesher.ledger.receipt import receipt_document
from gesher.ledger_service import keys
from gesher.ledger_service.group_commit import GroupCommit, LoopBatch
from gesher.ledger_service.log import micros, now, record
from gesher.settings import Settings
from gesher.store import ledger as store
from gesher.store.db import Database
from gesher.store.ledger import StoredCheckpoint


def _current(conn: Connection) -> set[str]:
    return {vkey for vkey, _, retired in store.keys(conn) if retired is None}


class TableLeaves:
    """`ledger.merkle.LeafStore` over the ledger table, as of a tree size."""

    def __init__(self, conn: Connection, size: int) -> None:
        self.conn = conn
        self._size = size

    def size(self) -> int:
        return self._size

    def leaf_hash(self, index: int) -> bytes:
        return store.leaf_hashes(self.conn, index, index + 1)[0]

    def leaf_hashes(self, start: int, stop: int) -> Sequence[bytes]:
        return store.leaf_hashes(self.conn, start, stop)


@dataclass(frozen=True)
class Disclosed:
    """What `Ledger.disclose` recorded: the entry's index in the log."""

    index: int


class Ledger:
    """One per process (held by the Node); thread-safe."""

    def __init__(self, settings: Settings, db: Database, origin: str) -> None:
        self.settings = settings
        self.db = db
        self.origin = origin
        self._signer: Signer | None = None
        self._subtrees: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()
        self.appender = GroupCommit(db)
        self.loop_batch = LoopBatch(db) if db.inline_reads else None

    # --- keys -----------------------------------------------------------------------------------------------

    def signer(self, conn: Connection | None = None) -> Signer:
        """The signing key. With `conn`, checked against the store's current key, so a worker that cached
        a key rotated since (by another process) reads the key file again."""
        if self._signer is None or (conn is not None and self._signer.verifier.vkey not in _current(conn)):
            self._signer = keys.load_signer(self.settings)
            if conn is not None and self._signer.verifier.vkey not in _current(conn):
                raise Unavailable(
                    "the ledger key file is not the ledger's current key: copy the current one here"
                )
        return self._signer

    def check_ready(self) -> None:
        """Refuse (ConfigurationError/Unavailable, saying why) unless the ledger can record and sign: its
        head exists and this host holds the current signing key. `gesher serve` asks before listening."""
        with self.db.read() as conn:
            if store.head(conn) is None:
                raise Unavailable("the disclosure ledger has no head: run `gesher init`")
            self.signer(conn)

    def rotate_key(self, actor: str, reason: str) -> StoredCheckpoint:
        """Replace the signing key (issue 6: "rotation is an entry"): the new public key is registered, the
        rotation recorded, and the checkpoint covering it is signed by both keys, so whoever trusts the old
        key learns the new one from a note the old key signed."""
        old = self.signer()
        new, retired = keys.replace_signer(self.settings, old.name)
        try:
            with self.db.write() as conn:
                at = micros(now())
                store.retire_keys(conn, at)
                store.add_key(conn, new.verifier.vkey, at)
                record(
                    conn,
                    Kind.KEY_ROTATION,
                    actor,
                    old_key=old.verifier.vkey,
                    new_key=new.verifier.vkey,
                    reason=reason,
                )
                head = store.head(conn, lock=True)
                assert head is not None
                note = sign_note(checkpoint_text(self.origin, head.size, head.root), [new, old])
                signed = StoredCheckpoint(head.size, head.root, note.decode("utf-8"), at)
                store.add_checkpoint(conn, signed)
        except BaseException:
            keys.restore_signer(self.settings, retired)
            raise
        self._signer = new
        return signed

    def canary_key(self) -> bytes:
        return keys.load_canary_key(self.settings)

    @staticmethod
    def verifiers(conn: Connection) -> list[Verifier]:
        """Every public key the ledger has signed with, oldest first."""
        return [parse_vkey(vkey) for vkey, _, _ in store.keys(conn)]

    # --- disclosures --------------------------------------------------------------------------------------

    def disclosure(
        self, partner: str, endpoint: str, policy_version: int, served: Sequence[Served], actor: str = ""
    ) -> tuple[entries.Entry, bytes]:
        """The entry recording one response to `partner`, validated and encoded (before any lock)."""
        entry = entries.disclosure(
            now(),
            actor or f"partner:{partner}",
            partner=partner,
            endpoint=endpoint,
            policy_version=policy_version,
            served=served,
        )
        return entry, entries.encode(entry)

    def disclose(
        self, partner: str, endpoint: str, policy_version: int, served: Sequence[Served], actor: str = ""
    ) -> Disclosed:
        """Record one response to `partner` before it is sent (group-committed with concurrent ones):
        nothing leaves unrecorded; a failure raises `Unavailable` (503) and the response is not sent."""
        entry, encoded = self.disclosure(partner, endpoint, policy_version, served, actor)
        return Disclosed(self.appender.append(entry, encoded))

    async def disclose_async(self, entry: entries.Entry, encoded: bytes) -> Disclosed:
        """`disclose` for an event loop: other requests are served while the batch commits."""
        if self.loop_batch is not None:
            return Disclosed(await self.loop_batch.append(entry, encoded))
        return Disclosed(await self.appender.append_async(entry, encoded))

    # --- checkpoints and proofs ---------------------------------------------------------------------------

    def checkpoint(self, covering: int | None = None) -> StoredCheckpoint:
        """The latest signed checkpoint; a new one is signed when the log grew and the latest is older than
        `ledger_checkpoint_seconds`, or does not include entry `covering`."""
        with self.db.write() as conn:
            head = store.head(conn, lock=True)
            if head is None:
                raise Unavailable("the disclosure ledger has no head: run `gesher init`")
            latest = store.latest_checkpoint(conn)
            if latest is not None and self._fresh(latest, head.size, covering):
                return latest
            signer = self.signer(conn)
            note = sign_checkpoint(self.origin, head.size, head.root, signer.private_key, signer.name)
            signed = StoredCheckpoint(head.size, head.root, note.decode("utf-8"), micros(now()))
            store.add_checkpoint(conn, signed)
            return signed

    def _fresh(self, latest: StoredCheckpoint, size: int, covering: int | None) -> bool:
        if covering is not None and latest.size <= covering:
            return False
        age = micros(now()) - latest.signed_at
        return latest.size == size or age < self.settings.ledger_checkpoint_seconds * 1_000_000

    def receipt(self, index: int) -> bytes:
        """The receipt document of entry `index`: its bytes, an inclusion proof and a signed checkpoint
        that includes it (`gesher ledger verify-receipt` checks it with only the public key)."""
        checkpoint = self.checkpoint(covering=index)
        with self.db.read() as conn:
            body = store.body(conn, index)
            if body is None or index >= checkpoint.size:
                raise NotFound(f"no ledger entry {index}")
            proof = self.inclusion_proof(conn, index, checkpoint.size)
        return receipt_document(body, index, proof, checkpoint.note.encode("utf-8"))

    def inclusion_proof(self, conn: Connection, index: int, size: int) -> list[bytes]:
        return self._proof(
            lambda leaves: merkle.inclusion_proof(leaves, index, size, self._subtrees), conn, size
        )

    def consistency_proof(self, conn: Connection, old: int, new: int) -> list[bytes]:
        return self._proof(
            lambda leaves: merkle.consistency_proof(leaves, old, new, self._subtrees), conn, new
        )

    def _proof(self, make: Callable[[TableLeaves], list[bytes]], conn: Connection, size: int) -> list[bytes]:
        head = store.head(conn)
        if head is None or size > head.size:
            raise NotFound(f"the ledger has no tree of size {size}")
        try:
            with self._lock:
                return make(TableLeaves(conn, head.size))
        except LedgerError as error:
            raise NotFound(error.description) from None
