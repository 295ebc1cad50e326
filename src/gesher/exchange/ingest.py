"""Adding STIX objects to a collection: validate each, keep every version, stay idempotent.

Used by TAXII POST, `gesher ingest` and the demo. Runs inside the caller's write transaction: a crash or an
interrupt rolls the whole call back, so nothing is ever half-written."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import orjson
from sqlalchemy import Connection

from gesher.errors import InvalidStix, NotFound
from gesher.exchange.labelling import Labeller, label_error
from gesher.exchange.versioning import Flags, Version, flag_changes
from gesher.ledger.entries import Kind
from gesher.ledger_service import log as ledger
from gesher.stix.markings import UnknownMarking
from gesher.stix.timestamps import format_micros, now_micros, version_key
from gesher.stix.validate import object_error
from gesher.store import objects as store
from gesher.store.objects import StoredVersion, serve_hints

BATCH = 1000


@dataclass
class IngestResult:
    """Per-object outcome, in the shape of a TAXII status resource."""

    successes: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    success_count: int = 0
    stored_count: int = 0
    # Conflicting copies refused without telling a caller that may not read the collection (for the audit).
    withheld: list[dict[str, str]] = field(default_factory=list)

    @property
    def total_count(self) -> int:
        return self.success_count + len(self.failures)


@dataclass(frozen=True)
class _Report:
    keep_successes: bool
    reveal_existing: bool
    collection_id: str = ""
    source: str = "system"


@dataclass
class _Candidate:
    obj: dict[str, object]
    body: bytes
    object_id: str
    version_text: str | None
    key: str | None = None
    date_added: int = 0
    label_id: int = 0
    hints: int = 0
    sha256: bytes = b""  # of `body`, for the ledger (ingest entry now, disclosure entries later)

    @property
    def unversioned(self) -> bool:
        """SCOs carry neither modified nor created; STIX does not version them."""
        return "modified" not in self.obj and "created" not in self.obj


def _failure(obj: object, message: str, position: int | None = None) -> dict[str, str]:
    """A status failure entry. Without a usable id, the message names the object's place in the input
    (0-based), so the sender can still find it."""
    entry = {"message": message}
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        entry["id"] = str(obj["id"])[:300]
    elif position is not None:
        entry["message"] = f"objects[{position}]: {message}"
    if isinstance(obj, dict):
        version = obj.get("modified", obj.get("created"))
        if isinstance(version, str):
            entry["version"] = version[:64]
    return entry


def _candidate(obj: object) -> _Candidate | str:
    reason = object_error(obj)
    if reason is not None:
        return reason
    assert isinstance(obj, dict)
    try:
        body = orjson.dumps(obj)
    except (orjson.JSONEncodeError, TypeError) as exc:  # e.g. an integer beyond 64 bits
        return f"cannot be stored as JSON: {exc}"
    version = obj.get("modified", obj.get("created"))
    candidate = _Candidate(obj, body, str(obj["id"]), str(version) if version is not None else None)
    candidate.hints = serve_hints(body)
    candidate.sha256 = hashlib.sha256(body).digest()  # before any lock, with the rest of validation
    return candidate


# (position in the input, the object, what validation made of it: a candidate or the reason it failed)
Checked = tuple[int, object, "_Candidate | str"]


@dataclass(frozen=True)
class Prepared:
    """Objects validated and serialised before any transaction: the CPU-heavy half of ingest, which needs
    no store, so a writer holds the collection's write lock only for what does (and, in a server, one
    request's validation overlaps another's store work)."""

    checked: list[Checked]


def prepare(raw_objects: Iterable[object]) -> Prepared:
    return Prepared([(i, obj, _candidate(obj)) for i, obj in enumerate(raw_objects)])


def _checked(raw_objects: Iterable[object] | Prepared) -> Iterator[Checked]:
    if isinstance(raw_objects, Prepared):
        return iter(raw_objects.checked)
    return ((i, obj, _candidate(obj)) for i, obj in enumerate(raw_objects))  # streamed, batch by batch


class _Clock:
    """Hands out date_added values: unique, strictly increasing, never behind the wall clock."""

    def __init__(self, last: int) -> None:
        self.last = max(last, now_micros() - 1)

    def next(self) -> int:
        self.last += 1
        return self.last


def add_objects(
    conn: Connection,
    collection_id: str,
    raw_objects: Iterable[object] | Prepared,
    added_by: int | None,
    keep_successes: bool = True,
    reveal_existing: bool = True,
    source: str = "system",
) -> IngestResult:
    """Add objects to a collection. With `reveal_existing=False` (a caller that may not read the collection)
    the outcome never depends on what is already stored: a conflicting copy of a stored version is refused
    but reported like any success, and recorded in `withheld`; otherwise it is a failure with its reason."""
    locked = store.lock_collection(conn, collection_id)
    if locked is None:
        raise NotFound(f"no collection {collection_id!r}")
    collection, last = locked
    result = IngestResult()
    clock = _Clock(last)
    report = _Report(keep_successes, reveal_existing, collection_id, source)
    labeller = Labeller(conn)
    deferred: list[Checked] = []
    for batch in _batches(_checked(raw_objects)):
        deferred += _add_batch(conn, collection, batch, added_by, clock, result, report, labeller, defer=True)
    # Objects whose marking definition had not arrived yet: the whole input has been seen now.
    for start in range(0, len(deferred), BATCH):
        batch = deferred[start : start + BATCH]
        _add_batch(conn, collection, batch, added_by, clock, result, report, labeller, defer=False)
    store.set_last_date_added(conn, collection, clock.last)
    store.note_growth(conn, result.stored_count)
    return result


def own_objects(conn: Connection, partner_id: int, object_ids: list[str]) -> dict[str, dict[str, object]]:
    """The latest version of each of `object_ids` that this partner itself posted, by id: what a partner
    sent before is read back for it (e.g. the observed data its later sightings name), never what another
    partner sent, so nothing leaves through here and nothing here can probe the store."""
    return store.own_latest(conn, partner_id, object_ids)


def _batches(items: Iterable[Checked]) -> Iterator[list[Checked]]:
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def _add_batch(
    conn: Connection,
    collection: int,
    batch: list[Checked],
    added_by: int | None,
    clock: _Clock,
    result: IngestResult,
    report: _Report,
    labeller: Labeller,
    defer: bool,
) -> list[Checked]:
    """Add one batch of checked objects; returns those deferred because a marking definition they cite
    may still come later in the input."""
    candidates: list[_Candidate] = []
    valid: list[tuple[int, _Candidate]] = []
    for position, obj, outcome in batch:
        if isinstance(outcome, str):
            result.failures.append(_failure(obj, outcome, position))
        else:
            valid.append((position, outcome))
    labeller.learn([c.obj for _, c in valid])
    deferred: list[Checked] = []
    for position, c in valid:
        if id(c.obj) in labeller.refused:
            reason = "a different marking definition with this id is held by this exchange (not versioned)"
            result.failures.append(_failure(c.obj, reason, position))
            continue
        label = label_error(labeller, c.obj)
        if isinstance(label, UnknownMarking) and defer:
            deferred.append((position, c.obj, c))
        elif isinstance(label, InvalidStix):
            result.failures.append(_failure(c.obj, str(label), position))
        else:
            c.label_id = label
            candidates.append(c)
    stored = store.versions_of(conn, collection, {c.object_id for c in candidates})
    fresh = _place(candidates, stored, clock, result, report)
    changes = _flags(fresh, stored)
    store.insert_versions(conn, [_row(collection, c, added_by, changes) for c in fresh])
    old = _old(stored)
    store.set_flags(conn, collection, [(d, flags) for d, flags in changes.items() if d in old])
    result.stored_count += len(fresh)
    if fresh:  # one ledger entry per batch: [id, version, SHA-256 of the stored bytes] of each new version
        stored = [[c.object_id, str(c.version_text), c.sha256.hex()] for c in fresh]
        ledger.record(
            conn,
            Kind.INGEST,
            report.source,
            collection=report.collection_id,
            source=report.source,
            objects=stored,
        )
    return deferred


def _place(
    candidates: list[_Candidate],
    stored: dict[str, list[StoredVersion]],
    clock: _Clock,
    result: IngestResult,
    report: _Report,
) -> list[_Candidate]:
    """Decide which candidates are new versions; duplicates of what is stored are successes that change
    nothing, and a different object under an existing id and version is refused."""
    fresh: list[_Candidate] = []
    seen: dict[tuple[str, str], bytes | dict[str, object]] = {}
    seen_ids: set[str] = set()
    for c in candidates:
        known = stored.get(c.object_id, [])
        if c.version_text is None:  # SCOs are not versioned: the first copy stands
            if known or c.object_id in seen_ids:
                _succeed(result, c, report)
                continue
            c.date_added = clock.next()
            c.version_text = format_micros(c.date_added)
        c.key = version_key(c.version_text)
        previous = seen.get((c.object_id, c.key))
        if previous is None and known:
            previous = next((s.body for s in known if s.version == c.key), None)
        if previous is not None:
            same = (orjson.loads(previous) if isinstance(previous, bytes) else previous) == c.obj
            if not same:
                conflict = _failure(c.obj, "a different object with this id and version is already stored")
                if report.reveal_existing:
                    result.failures.append(conflict)
                else:
                    result.withheld.append(conflict)
                    _succeed(result, c, report)
                continue
            _succeed(result, c, report)
            continue
        c.date_added = c.date_added or clock.next()
        seen[(c.object_id, c.key)] = c.obj
        seen_ids.add(c.object_id)
        fresh.append(c)
        _succeed(result, c, report)
    return fresh


def _succeed(result: IngestResult, c: _Candidate, report: _Report) -> None:
    result.success_count += 1
    if report.keep_successes:
        entry = {"id": c.object_id}
        if not c.unversioned:  # an SCO's version would tell whether someone stored it before
            entry["version"] = str(c.version_text)
        result.successes.append(entry)


def _old(stored: dict[str, list[StoredVersion]]) -> set[int]:
    return {s.date_added for versions in stored.values() for s in versions}


def _flags(fresh: list[_Candidate], stored: dict[str, list[StoredVersion]]) -> dict[int, Flags]:
    """Flags of every version of every touched object that are new or changed by this batch."""
    by_object: dict[str, list[Version]] = {}
    for c in fresh:
        assert c.key is not None
        by_object.setdefault(c.object_id, []).append((c.key, c.date_added, (c.label_id, False), None))
    changes: dict[int, Flags] = {}
    for object_id, versions in by_object.items():
        known = [
            (s.version, s.date_added, (s.label_id, s.released), s.flags) for s in stored.get(object_id, [])
        ]
        changes.update(flag_changes(versions + known))
    return changes


def _row(
    collection: int, c: _Candidate, added_by: int | None, changes: dict[int, Flags]
) -> tuple[object, ...]:
    """A new version, in the column order of store.tables.objects."""
    is_latest, is_first, uniform = changes[c.date_added]
    spec_version = c.obj.get("spec_version", "2.1")
    return (
        collection,
        c.date_added,
        c.object_id,
        c.obj["type"],
        c.key,
        c.version_text,
        spec_version,
        is_latest,
        is_first,
        uniform,
        added_by,
        c.label_id,
        False,
        c.hints,
        c.sha256,
        c.body,
    )
