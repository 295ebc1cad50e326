"""Access labels at ingest: each new version's markings reduced to a stored label id (DESIGN.md).

Marking definitions are looked up in the same input first, then in the store; a reference to one the
exchange does not hold refuses the object (a marking nobody can interpret is never ignored)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection

from gesher.errors import InvalidStix
from gesher.exchange.versioning import repair_flags
from gesher.policy.labels import AccessLabel, definition_label, object_label
from gesher.stix.markings import PAP_BY_MARKING, TLP_BY_MARKING
from gesher.stix.validate import required_properties
from gesher.store import labels as label_store
from gesher.store import objects as object_store

_ALWAYS_REQUIRED = frozenset({"type", "id"})
# Metadata that tells how to read other objects: labelled as public unless it names its recipients.
_DEFINITIONS = frozenset({"marking-definition", "extension-definition"})


class Labeller:
    """One per ingest call: caches definitions and label ids (labels are few; objects are many)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.definitions: dict[str, Mapping[str, object] | None] = {}
        self.ids: dict[object, int] = {}
        self.refused: set[int] = set()  # id() of incoming definitions that contradict a held copy

    def learn(self, objects: list[dict[str, Any]]) -> None:
        """Marking definitions arriving in this input (they may precede or follow their users in a batch).
        One that differs from the copy already held (stored, or earlier in this input) is refused, and so
        is every object citing it in this input: STIX 2.1 does not version marking definitions, so a
        different object under a known id can only be a mistake or an attempt to weaken a marking."""
        for obj in objects:
            if obj.get("type") == "marking-definition":
                ref = str(obj["id"])
                try:
                    held = self._definition(ref)
                except InvalidStix:
                    self.refused.add(id(obj))  # conflicting copies already held, or refused earlier
                    continue
                if held is None:
                    self.definitions[ref] = obj
                elif held != obj:
                    self.refused.add(id(obj))
                    self.definitions[ref] = {**held, "_conflict": True}

    def label_id(self, obj: dict[str, Any]) -> int:
        """The stored label id of `obj`; InvalidStix when a marking cannot be interpreted."""
        refs = tuple(obj.get("object_marking_refs") or ())
        granular = tuple(
            (g["marking_ref"], tuple(g["selectors"]))
            for g in obj.get("granular_markings") or ()
            if isinstance(g, dict) and "marking_ref" in g
        )
        if obj["type"] in _DEFINITIONS:
            return self._store(definition_label(obj, self._definition))
        key = (refs, granular, obj["type"] if granular else None)
        found = self.ids.get(key)
        if found is None:
            required = frozenset(required_properties(obj["type"])) | _ALWAYS_REQUIRED
            found = self.ids[key] = self._store(object_label(refs, granular, required, self._definition))
        return found

    def _store(self, label: AccessLabel) -> int:
        return label_store.ensure(self.conn, label)

    def _definition(self, ref: str) -> Mapping[str, object] | None:
        if ref in TLP_BY_MARKING or ref in PAP_BY_MARKING:
            return None
        if ref not in self.definitions:
            self.definitions[ref] = self._stored(ref)
        found = self.definitions[ref]
        if found is not None and found.get("_conflict"):
            raise InvalidStix(f"marking definition {ref!r} differs from the copy this exchange holds")
        return found

    def _stored(self, ref: str) -> Mapping[str, object] | None:
        copies = object_store.marking_definitions(self.conn, ref)
        if len(copies) > 1:
            raise InvalidStix(f"marking definition {ref!r} has conflicting copies in this exchange")
        return copies[0] if copies else None


def label_error(labeller: Labeller, obj: dict[str, Any]) -> int | InvalidStix:
    """The label id, or why the object's markings cannot be interpreted (UnknownMarking: a marking
    definition the exchange does not hold, which may still arrive later in the same input)."""
    try:
        return labeller.label_id(obj)
    except InvalidStix as exc:
        return exc


def relabel(conn: Connection, batch: int = 1000) -> tuple[int, list[str]]:
    """Give a label to every stored version that has none (stored before labels existed). Returns how
    many were labelled and the reasons of those that could not be (they stay unserved)."""
    labeller = Labeller(conn)
    done, failed, skip = 0, [], 0
    touched: dict[int, set[str]] = {}
    while rows := object_store.unlabelled(conn, batch + skip):
        rows = rows[skip:]
        if not rows:
            break
        bodies = [(int(k), int(d), orjson.loads(b)) for k, d, b in rows]  # type: ignore[call-overload]
        labeller.learn([obj for _, _, obj in bodies])
        for key, date_added, obj in bodies:
            found = label_error(labeller, obj)
            if isinstance(found, InvalidStix):
                failed.append(f"{obj.get('id')}: {found}")
                skip += 1
            else:
                object_store.set_label(conn, key, date_added, found)
                touched.setdefault(key, set()).add(str(obj["id"]))
                done += 1
    for key, object_ids in touched.items():
        repair_flags(conn, key, object_ids)
    return done, failed
