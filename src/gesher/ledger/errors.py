"""The one error of the ledger: `LedgerError`, raised whenever an entry, a proof, a checkpoint or a key does
not check out. It names what is wrong (`reason`, a stable code) and, when known, the entry `index`, so an
operator's `gesher ledger verify` and a partner's `verify-receipt` can report the first bad entry and why
(issue 6, "Bad input": verification fails loudly with the index and reason)."""

from __future__ import annotations

from gesher.errors import GesherError


class LedgerError(GesherError):
    """A ledger entry, proof, checkpoint or key failed validation or verification."""

    status = 400
    title = "Ledger verification failed"

    def __init__(self, reason: str, message: str, *, index: int | None = None) -> None:
        where = f"entry {index}: " if index is not None else ""
        details: dict[str, object] = {"reason": reason}
        if index is not None:
            details["index"] = index
        super().__init__(f"{where}{message}", details=details)
        self.reason = reason
        self.index = index
