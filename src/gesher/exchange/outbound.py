"""The one way intelligence leaves the exchange.

Every path out (TAXII objects, object, versions, manifest, export; later alerts, federation and the web
console) reads through an `Outbound` bound to the caller. It decides access with the pure policy, filters
in SQL, and hands back bytes ready to serve. Nothing else reads stored objects for a caller (a test
enforces it). What a caller may not see is indistinguishable from what does not exist: same 404, and
counts and `more` are computed after filtering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
from sqlalchemy import Connection, Row

from gesher.errors import Forbidden, NotFound
from gesher.exchange.clearance import Allowed, Clearance
from gesher.policy.access import CollectionAccess, collection_access
from gesher.policy.principal import Principal
from gesher.policy.rules import DENY_ALL
from gesher.policy.sanitise import Sanitiser, remove_selectors
from gesher.store import collections as collection_store
from gesher.store import objects as store
from gesher.store.collections import Collection
from gesher.store.objects import LabelFilter
from gesher.taxii.query import TaxiiQuery, Versions, is_stix_id, is_uuid

ADMINISTRATOR = "administrator"  # the deciding "rule" of what an administrator of the exchange reads


@dataclass(frozen=True)
class Page:
    """Rows served (date_added first), whether more follow, and per row the rule that allowed it (one rule
    for every row when `rules` is a string: an administrator's read)."""

    rows: Sequence[tuple[object, ...]] | Sequence[Row[tuple[object, ...]]]
    more: bool
    rules: Sequence[str] | str = ADMINISTRATOR

    def rule(self, i: int) -> str:
        return self.rules if isinstance(self.rules, str) else self.rules[i]

    @property
    def first_added(self) -> int | None:
        return int(self.rows[0][0]) if self.rows else None  # type: ignore[call-overload]

    @property
    def last_added(self) -> int | None:
        return int(self.rows[-1][0]) if self.rows else None  # type: ignore[call-overload]


# Objects that point at others: withheld when a referenced object exists but is hidden from the caller
# (issue 3: relationships and sightings whose source or target is hidden).
_POINTERS: Final = {
    "relationship": ("source_ref", "target_ref"),
    "sighting": ("sighting_of_ref", "observed_data_refs", "where_sighted_refs"),
    # A report or note listing a hidden object would name it (issue 7: alerts never reveal hidden
    # indicators to a recipient).
    "report": ("object_refs",),
    "note": ("object_refs",),
}
assert set(_POINTERS) == set(store.POINTER_TYPES)
_SERVING_COLUMNS = ("serving", "object_id", "body")  # store.objects packs what serving needs into `serving`
# What serving a label needs: the sanitiser, the selectors denied, and those held until release
Redaction = tuple["Sanitiser | None", tuple[str, ...], tuple[str, ...]]
Plan = tuple["Sanitiser | None", tuple[str, ...]]  # the sanitiser and every selector to remove
_LOOK_CLOSER = store.SEVERAL | store.POINTER  # rows that may be withheld whatever their label
_PLAN_BITS = ~_LOOK_CLOSER  # what decides a row's redaction: label, released, address hint
_UNPLANNED: Final = object()


class Outbound:
    def __init__(self, conn: Connection, principal: Principal, clearance: Clearance | None = None) -> None:
        self.conn = conn
        self.principal = principal
        self.clearance = clearance
        self._allowed: Allowed | None = None

    def allowed(self) -> Allowed | None:
        """What the caller may receive; None for an administrator of the exchange, who receives everything
        unredacted. Without an entitlement or a clearance, nothing (default deny). Asked once per Outbound
        (one request): every read of a request sees the same policy."""
        if self.principal.is_admin:
            return None
        if self.clearance is None or self.principal.entitlement is None:
            return NOTHING
        if self._allowed is None:
            entitlement, state = self.principal.entitlement, self.principal.policy_state
            self._allowed = self.clearance.allowed(self.conn, entitlement, state=state)
        return self._allowed

    def policy_version(self) -> int:
        """The policy this Outbound applied (0: none, e.g. an administrator's unfiltered read)."""
        if self._allowed is not None:
            return self._allowed.policy_id
        return self.principal.policy_state[0] if self.principal.policy_state else 0

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
        allowed = self.allowed()
        if allowed is None:
            rows = store.page(self.conn, collection.key, q, after, limit + 1, cols)
            return Page(rows[:limit], len(rows) > limit)
        if allowed.nothing:
            return Page((), False, ())
        labels = LabelFilter(allowed.open, allowed.gated)
        served: list[tuple[object, ...]] = []
        rules: list[str] = []
        position = after
        # Body reads also take the object id and version, both already among the serving columns.
        extra = cols[2:] if cols[:1] == ("body",) else cols
        # Counts and `more` are computed after every filter: rows withheld here are fetched past until the
        # page is full or the collection is exhausted (hidden is indistinguishable from absent).
        while True:
            rows = store.page(
                self.conn, collection.key, q, position, limit + 1, (*_SERVING_COLUMNS, *extra), labels
            )
            served.extend(self._serve(rows, allowed, labels, cols, collection_id, rules))
            if len(served) > limit or len(rows) <= limit:
                break
            position = int(rows[-1][0])  # type: ignore[call-overload]
        return Page(served[:limit], len(served) > limit, rules[:limit])

    def _serve(
        self,
        rows: Sequence[Row[Any]],
        allowed: Allowed,
        labels: LabelFilter,
        cols: tuple[str, ...],
        collection_id: str,
        rules: list[str],
    ) -> list[tuple[object, ...]]:
        """The rows as served: withheld ones dropped, bodies redacted where the caller's profile or the
        granular markings ask for it; the deciding rule of each row served is added to `rules`. Runs per
        row on every partner page, so it is kept lean.

        An object one of whose versions the caller's profile withholds is withheld whole: serving its
        other versions would let `match[version]` last or first betray the withheld one (the choice of
        first and latest is made in SQL, before redaction)."""
        hidden = self._hidden_references(rows, labels)
        pointing_away = hidden | allowed.protected
        several = sorted({str(r[2]) for r in rows if r[1] & store.SEVERAL})
        spoiled = self._spoiled(several, [collection_id], labels, allowed)
        plans: dict[int, object] = {}  # Plan by the bits that decide it; None: serve the body as stored
        wants_body = cols[:1] == ("body",)
        rule_of = allowed.rules
        out: list[tuple[object, ...]] = []
        for date_added, serving, object_id, body, *values in rows:
            if serving & _LOOK_CLOSER:
                if serving & store.SEVERAL and object_id in spoiled:
                    continue
                if serving & store.POINTER and pointing_away and _points_at(body, object_id, pointing_away):
                    continue
            key = serving & _PLAN_BITS
            plan = plans.get(key, _UNPLANNED)
            if plan is _UNPLANNED:
                plan = plans[key] = self._plan_for(key, allowed)
            digest = values[-1] if wants_body else None  # objects(): the stored body's SHA-256 comes last
            if plan is not None:
                sanitiser, denied = plan
                if denied or (sanitiser is not None and sanitiser.needs(body, key & store.ADDRESS_HINT != 0)):
                    body, digest = _redacted(bytes(body), sanitiser, denied), None
                    if body is None:
                        continue
            if wants_body:
                out.append((date_added, body, object_id, *values[:-1], digest))
            else:
                out.append((date_added, *values))
            rules.append(rule_of.get(serving >> store.LABEL_SHIFT, "policy"))
        return out

    def _plan_for(self, bits: int, allowed: Allowed) -> Plan | None:
        """How versions whose serving bits (label, released, address hint) are `bits` reach the caller:
        None when every such body is served as stored, else the sanitiser and the selectors to remove."""
        sanitiser, denied, pending = self._plan(bits >> store.LABEL_SHIFT, allowed)
        if pending and not bits & store.RELEASED:
            denied = (*denied, *pending)
        if not denied and (sanitiser is None or sanitiser.needs_nothing(bits & store.ADDRESS_HINT != 0)):
            return None
        return sanitiser, denied

    def _plan(self, label_id: int, allowed: Allowed) -> Redaction:
        """How versions with this label are redacted for the caller: its profile's sanitiser, the
        granular-marking selectors it is not cleared for, and those held back until release."""
        assert self.clearance is not None
        sanitiser = self.clearance.sanitiser(allowed, allowed.profiles.get(label_id))
        denied = allowed.denied_selectors.get(label_id, ())
        return sanitiser, denied, allowed.pending_selectors.get(label_id, ())

    def _hidden_references(self, rows: Sequence[Row[Any]], labels: LabelFilter) -> set[str]:
        """Ids referenced by relationships and sightings in `rows` that the exchange holds but the caller
        may not see."""
        refs: set[str] = set()
        for row in rows:
            if row[1] & store.POINTER:
                refs.update(_references(orjson.loads(row[3]), row[2]))
        if not refs:
            return set()
        held = store.held_ids(self.conn, sorted(refs))
        if not held:
            return set()
        readable = [cid for cid, g in self.principal.grants.items() if g.can_read]
        allowed = self.allowed()
        assert allowed is not None
        received = self._received(sorted(held), readable, labels, allowed)
        return held - {object_id for _, object_id in received}

    def _received(
        self, object_ids: list[str], collection_ids: list[str], labels: LabelFilter, allowed: Allowed
    ) -> set[tuple[int, str]]:
        """(collection key, object id) of the objects the caller receives, in those collections: some
        version visible and none withheld by its profile."""
        visible: set[tuple[int, str]] = set()
        spoiled: set[tuple[int, str]] = set()
        for key, object_id, label_id, released, body in store.visible_versions(
            self.conn, object_ids, collection_ids, labels
        ):
            visible.add((key, object_id))
            if not self._survives(body, label_id, released, allowed):
                spoiled.add((key, object_id))
        return visible - spoiled

    def _spoiled(
        self, object_ids: list[str], collection_ids: list[str], labels: LabelFilter, allowed: Allowed
    ) -> set[str]:
        """Of objects with several versions, those one of whose visible versions the profile withholds."""
        if not object_ids:
            return set()
        received = {object_id for _, object_id in self._received(object_ids, collection_ids, labels, allowed)}
        return set(object_ids) - received

    def _survives(self, body: bytes, label_id: int, released: bool, allowed: Allowed) -> bool:
        """Whether the caller receives this version at all once redacted (a version its sanitisation
        profile withholds is as hidden as one its label hides)."""
        sanitiser, denied, pending = self._plan(label_id, allowed)
        if pending and not released:
            denied = (*denied, *pending)
        if not denied and (sanitiser is None or not sanitiser.needs(body)):
            return True
        return _redacted(body, sanitiser, denied) is not None

    def objects(self, collection_id: str, q: TaxiiQuery, after: int | None, limit: int) -> Page:
        """(date_added, body, object id, version, sha256) rows of the objects the caller may receive, the
        body serialised as served; sha256 is the stored body's digest when it is served unchanged, else None
        (the ledger then hashes what is served)."""
        return self._page(collection_id, q, after, limit, "body", "object_id", "version_text", "sha256")

    def manifest(self, collection_id: str, q: TaxiiQuery, after: int | None, limit: int) -> Page:
        """(date_added, id, version, spec_version) rows."""
        return self._page(collection_id, q, after, limit, "object_id", "version_text", "spec_version")

    def versions(self, collection_id: str, q: TaxiiQuery, after: int | None, limit: int) -> Page:
        """(date_added, version) rows; q carries the object id and match[version]=all."""
        return self._page(collection_id, q, after, limit, "version_text")

    def object_exists(self, collection_id: str, object_id: str) -> bool:
        """Whether the caller may see any version of the object (for 404 versus an empty page)."""
        if not is_stix_id(object_id):
            self._readable(collection_id)
            return False
        q = TaxiiQuery(ids=(object_id,), versions=Versions(latest=False, every=True))
        return bool(self._page(collection_id, q, None, 1).rows)


NOTHING: Final = Allowed(DENY_ALL, 0, (), ())


def _redacted(body: bytes, sanitiser: Sanitiser | None, denied: tuple[str, ...]) -> bytes | None:
    """The redacted bytes, or None when redaction would leave no valid object (it is then withheld)."""
    obj = orjson.loads(body)
    kept = sanitiser.apply(obj, denied).obj if sanitiser is not None else remove_selectors(obj, denied)
    return orjson.dumps(kept) if kept is not None else None


def _references(obj: dict[str, object], object_id: str) -> list[str]:
    found: list[str] = []
    for name in _POINTERS[object_id.partition("--")[0]]:
        value = obj.get(name)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str))
    return found


def _points_at(body: bytes, object_id: str, hidden: set[str]) -> bool:
    return any(ref in hidden for ref in _references(orjson.loads(body), object_id))
