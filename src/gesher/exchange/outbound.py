"""The one way intelligence leaves the exchange.

Every path out (TAXII objects, object, versions, manifest, export; later alerts, federation and the web
console) reads through an `Outbound` bound to the caller. It decides access with the pure policy, filters
in SQL, and hands back bytes ready to serve. Nothing else reads stored objects for a caller (a test
enforces it). What a caller may not see is indistinguishable from what does not exist: same 404, and
counts and `more` are computed after filtering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from gesher.errors import Forbidden, NotFound
from gesher.policy.access import CollectionAccess, collection_access
from gesher.policy.principal import Principal
from gesher.store import collections as collection_store
from gesher.store import objects as store
from gesher.store.collections import Collection
from gesher.taxii.query import TaxiiQuery, is_stix_id, is_uuid


@dataclass(frozen=True)
class Page:
    rows: Sequence[tuple[object, ...]]
    more: bool

    @property
    def first_added(self) -> int | None:
        return int(self.rows[0][0]) if self.rows else None  # type: ignore[call-overload]

    @property
    def last_added(self) -> int | None:
        return int(self.rows[-1][0]) if self.rows else None  # type: ignore[call-overload]


class Outbound:
    def __init__(self, conn: Connection, principal: Principal) -> None:
        self.conn = conn
        self.principal = principal

    def access(self, collection_id: str) -> tuple[Collection, CollectionAccess]:
        """The collection and the caller's access; NotFound when the caller may not know it exists."""
        decision = collection_access(self.principal, collection_id)
        visible = decision.visible and is_uuid(collection_id)
        found = collection_store.by_id(self.conn, collection_id) if visible else None
        if found is None:
            raise NotFound(f"no collection {collection_id!r}")
        return found, decision

    def collections(self) -> list[tuple[Collection, CollectionAccess]]:
        listed = []
        for c in collection_store.all_collections(self.conn):
            decision = collection_access(self.principal, c.id)
            if decision.visible:
                listed.append((c, decision))
        return listed

    def _readable(self, collection_id: str) -> Collection:
        found, decision = self.access(collection_id)
        if not decision.can_read:
            raise Forbidden("this collection is write-only for you")
        return found

    def _page(self, collection_id: str, q: TaxiiQuery, after: int | None, limit: int, *cols: str) -> Page:
        collection = self._readable(collection_id)
        rows = store.page(self.conn, collection.key, q, after, limit + 1, cols)
        return Page(rows[:limit], len(rows) > limit)

    def objects(self, collection_id: str, q: TaxiiQuery, after: int | None, limit: int) -> Page:
        """(date_added, body) rows of the objects the caller may receive, serialised as served."""
        return self._page(collection_id, q, after, limit, "body")

    def manifest(self, collection_id: str, q: TaxiiQuery, after: int | None, limit: int) -> Page:
        """(date_added, id, version, spec_version) rows."""
        return self._page(collection_id, q, after, limit, "object_id", "version_text", "spec_version")

    def versions(self, collection_id: str, q: TaxiiQuery, after: int | None, limit: int) -> Page:
        """(date_added, version) rows; q carries the object id and match[version]=all."""
        return self._page(collection_id, q, after, limit, "version_text")

    def object_exists(self, collection_id: str, object_id: str) -> bool:
        """Whether the caller may see any version of the object (for 404 versus an empty page)."""
        collection = self._readable(collection_id)
        return is_stix_id(object_id) and store.any_version(self.conn, collection.key, object_id)
