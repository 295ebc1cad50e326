"""What a page of objects discloses, as the ledger records it: every object with the SHA-256 of the exact
bytes it takes in what is sent (the digest taken at ingest when the body is served as stored, else the
redacted bytes hashed now) and the rule that allowed it. Shared by TAXII responses and `gesher export`."""

from __future__ import annotations

import hashlib

from gesher.exchange.outbound import Page
from gesher.ledger.entries import Served


def objects_served(page: Page) -> list[Served]:
    """The `Served` list of a page from `Outbound.objects` (rows: date_added, body, id, version, sha256)."""
    return [
        Served(
            str(oid), str(version), digest.hex() if digest else hashlib.sha256(body).hexdigest(), page.rule(i)
        )  # type: ignore[union-attr,arg-type]
        for i, (_, body, oid, version, digest) in enumerate(page.rows)
    ]
