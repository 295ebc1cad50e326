"""Deleting an object's versions from a collection (TAXII 2.1 section 5.7).

Who may delete: an administrator of the exchange, or a partner with write access removing versions that it
contributed itself. Nobody removes another partner's contribution through TAXII."""

from __future__ import annotations

from sqlalchemy import Connection

from gesher.errors import Forbidden, NotFound
from gesher.exchange.clearance import Clearance
from gesher.exchange.outbound import Outbound
from gesher.exchange.versioning import repair_flags
from gesher.policy.principal import Principal
from gesher.store import audit
from gesher.store import objects as store
from gesher.store.tables import objects as t
from gesher.taxii.query import TaxiiQuery


def delete_object(
    conn: Connection,
    principal: Principal,
    collection_id: str,
    object_id: str,
    q: TaxiiQuery,
    clearance: Clearance | None = None,
) -> int:
    """Delete the versions that match `q` (match[version] defaults to `last`, as everywhere in TAXII) and
    repair the flags of what remains. Returns how many versions went. A partner's request considers only
    versions it contributed or may see: versions hidden from it are as absent as everywhere else (no 403
    that would betray them)."""
    out = Outbound(conn, principal, clearance)
    collection, access = out.access(collection_id)
    cols = (t.c.date_added, t.c.added_by, t.c.label_id, t.c.released)
    matched = list(store.matching(conn, collection.key, q, *cols))
    if not principal.is_admin:
        allowed = out.allowed()
        assert allowed is not None
        matched = [
            r for r in matched if r.added_by == principal.partner_id or allowed.admits(r.label_id, r.released)
        ]
    mine = principal.is_admin or all(row.added_by == principal.partner_id for row in matched)
    if not matched or (not access.can_read and not mine):
        # A write-only caller must not learn that someone else's object exists: same 404 as absent.
        raise NotFound(f"no matching version of {object_id!r} in this collection")
    if not (access.can_write and mine):
        raise Forbidden("you may delete only versions that you contributed to a collection you can write to")
    store.delete_versions(conn, collection.key, [row.date_added for row in matched])
    repair_flags(conn, collection.key, [object_id])
    audit.record(
        conn,
        f"partner:{principal.name}",
        "object.delete",
        object_id,
        collection=collection_id,
        versions=len(matched),
    )
    return len(matched)
