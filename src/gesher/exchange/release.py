"""The release gate (issue 3, Build 7): items marked sensitive or above, and TLP:AMBER+STRICT or RED items,
reach no partner until a second analyst approves their release. One analyst requests, a different one
approves; both with a reason, recorded append-only. Approval is per object version: a new version needs
its own."""

from __future__ import annotations

from sqlalchemy import Connection

from gesher.errors import Conflict, InvalidRequest, NotFound
from gesher.exchange.versioning import repair_flags
from gesher.ledger.entries import Kind
from gesher.ledger_service import log as ledger
from gesher.stix.timestamps import now_micros, version_key
from gesher.store import audit
from gesher.store import objects as object_store
from gesher.store import releases as store
from gesher.store.objects import StoredLocation


def _targets(
    conn: Connection, object_id: str, version: str | None, collection: str | None
) -> list[StoredLocation]:
    found = object_store.locations(conn, object_id)
    if collection is not None:
        found = [loc for loc in found if collection in (loc.collection_name, loc.collection_id)]
    if version is None:
        found = [loc for loc in found if loc.is_latest]
    else:
        try:
            key = version_key(version)
        except ValueError:
            raise InvalidRequest(f"version {version[:64]!r} is not a STIX timestamp") from None
        found = [loc for loc in found if loc.version == key]
    if not found:
        raise NotFound(f"no stored version of {object_id!r} matches")
    return found


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidRequest("a reason is required")
    return reason.strip()


def request(
    conn: Connection,
    actor: str,
    object_id: str,
    reason: str,
    version: str | None = None,
    collection: str | None = None,
) -> list[StoredLocation]:
    """Ask for a second analyst's approval to release the version (the latest by default)."""
    return _record(conn, "request", actor, object_id, reason, version, collection)


def approve(
    conn: Connection,
    actor: str,
    object_id: str,
    reason: str,
    version: str | None = None,
    collection: str | None = None,
) -> list[StoredLocation]:
    """Approve a requested release. The approver must not be the analyst who requested it."""
    return _record(conn, "approve", actor, object_id, reason, version, collection)


def revoke(
    conn: Connection,
    actor: str,
    object_id: str,
    reason: str,
    version: str | None = None,
    collection: str | None = None,
) -> list[StoredLocation]:
    """Withdraw a release: partners stop receiving the version at their next request."""
    return _record(conn, "revoke", actor, object_id, reason, version, collection)


def _record(
    conn: Connection,
    action: str,
    actor: str,
    object_id: str,
    reason: str,
    version: str | None,
    collection: str | None,
) -> list[StoredLocation]:
    """One release decision on every matching version, recorded append-only and audited."""
    why = _reason(reason)
    targets = _targets(conn, object_id, version, collection)
    for loc in targets:
        if action == "approve":
            _check_second_analyst(conn, actor, loc)
        store.record(conn, loc.collection_key, loc.object_id, loc.version, action, actor, why, now_micros())
        if action != "request":
            object_store.set_released(
                conn, loc.collection_key, loc.object_id, loc.version, action == "approve"
            )
            repair_flags(conn, loc.collection_key, [loc.object_id])
        audit.record(conn, actor, f"release.{action}", loc.object_id, version=loc.version_text, reason=why)
        ledger.record(
            conn,
            Kind.RELEASE,
            actor,
            object_id=loc.object_id,
            version=loc.version_text,
            decision=action,
            reason=why,
        )
    return targets


def _check_second_analyst(conn: Connection, actor: str, loc: StoredLocation) -> None:
    history = store.history(conn, loc.collection_key, loc.object_id, loc.version)
    requesters = {e.actor for e in history if e.action == "request"}
    if not requesters:
        raise Conflict(f"no release of {loc.object_id} {loc.version_text} was requested: request it first")
    if requesters == {actor}:
        raise Conflict("a release needs a second analyst: the requester cannot approve it")


def is_released(conn: Connection, object_id: str) -> bool:
    """Whether any stored latest version of the object has an approved release."""
    return any(loc.released for loc in object_store.locations(conn, object_id) if loc.is_latest)


def was_requested(conn: Connection, object_id: str) -> bool:
    """Whether a release of the object's latest version was ever requested."""
    return any(
        e.action == "request"
        for loc in object_store.locations(conn, object_id)
        if loc.is_latest
        for e in store.history(conn, loc.collection_key, loc.object_id, loc.version)
    )
