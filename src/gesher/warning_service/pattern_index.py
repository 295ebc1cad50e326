"""Observed values against the stored indicators whose patterns are not simple equalities (issue 7,
"Correlation": other patterns evaluated properly).

An equality pattern names its values, and `indicator_keys` finds them with one indexed lookup. A pattern
with `LIKE`, `MATCHES`, `ISSUBSET` (an address in a CIDR network), `<`/`>`, `!=`, `AND`, `FOLLOWEDBY` or
qualifiers cannot be looked up by value: it has to be run on the value. Those patterns are few, so:

- the indicator index's builder (`indicator_keys.catch_up`) files them in `indicator_patterns` as it
  reads the indicators stored since its cursors; those stored since are read directly
  (`indicator_keys.not_indexed_yet`) and evaluated without being cached;
- each worker process keeps them compiled (`PatternEvaluator`, the OASIS matcher), grouped by the
  cyber-observable types they compare, and follows `indicator_patterns` by its `seq` at every sighting:
  workers stay stateless, and one that has not seen an indicator yet sees it at its next sighting;
- a reported value `type:value` is evaluated against the patterns of its type only.

So a sighting costs a few queries plus one evaluation per pattern of the value's type, and a worker
starting cold reads the non-equality patterns, not every indicator. Patterns read in the sighting's own
transaction (e.g. an indicator posted with its sighting) are used at once but join the worker's cache only
when that transaction commits: a rollback leaves no trace. Matches whose indicator has since been deleted
are dropped by a check that the matched ids are still stored.

Hidden = absent holds as for equality matches: what the partner is told does not depend on the tokens a
value counts for (see `sightings`), every candidate of the value's type is evaluated whatever the outcome,
and which indicators are candidates does not depend on who may see them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event

from gesher.store import indicator_index as store
from gesher.warning.indicators import STIX_HASH_NAMES, PatternEvaluator
from gesher.warning.observations import Observation
from gesher.warning.values import ValueType
from gesher.warning_service import indicator_keys

# Words after which a pattern's result depends on when, or how often, the value was seen. A pattern
# without any is evaluated once per distinct value in a batch. (A string literal holding one of them only
# costs a few more evaluations.)
_TIMED = ("WITHIN", "START", "REPEATS")


class Reported(Protocol):
    """What a sighting report gives: a value token `type:value` (or an indicator id, skipped), when, how
    often (`sightings.Report`)."""

    @property
    def subject(self) -> str: ...
    @property
    def time(self) -> datetime: ...
    @property
    def count(self) -> int: ...
    @property
    def is_indicator(self) -> bool: ...


@dataclass(frozen=True)
class Compiled:
    """One stored pattern, compiled: its indicator, the observable types it compares, and whether its
    result depends on time or count."""

    indicator_id: str
    pattern: str
    evaluator: PatternEvaluator
    types: frozenset[str]
    timed: bool


class PatternIndex:
    """One process's compiled non-equality patterns of one store, grouped by observable type, and the
    `indicator_patterns` seq up to which it has read. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._by_type: dict[str, list[Compiled]] = {}
        self._seen: set[tuple[str, str]] = set()  # (indicator id, pattern): compiled or not compilable

    def refresh(self, conn: Connection) -> list[Compiled]:
        """Read the patterns appended since this process last did; those not cached yet, which join the
        cache when `conn`'s transaction commits."""
        with self._lock:
            after, seen = self._seq, set(self._seen)
        rows = store.patterns_after(conn, after)
        if not rows:
            return []
        fresh: dict[tuple[str, str], Compiled | None] = {}
        for _, indicator_id, pattern in rows:
            if (indicator_id, pattern) not in seen:
                fresh[(indicator_id, pattern)] = _compile(indicator_id, pattern)
        last = rows[-1][0]
        _on_commit(conn, lambda: self._merge(last, fresh))
        return [c for c in fresh.values() if c is not None]

    def candidates(self, stix_type: str, pending: Sequence[Compiled]) -> list[Compiled]:
        """The patterns that compare `stix_type`: cached, and read in this transaction."""
        with self._lock:
            cached = list(self._by_type.get(stix_type, ()))
        known = {(c.indicator_id, c.pattern) for c in cached}
        extra = [c for c in pending if stix_type in c.types and (c.indicator_id, c.pattern) not in known]
        return cached + extra

    def _merge(self, last: int, fresh: dict[tuple[str, str], Compiled | None]) -> None:
        with self._lock:
            for key, compiled in fresh.items():
                if key in self._seen:
                    continue  # another transaction of this process cached it first
                self._seen.add(key)
                if compiled is not None:
                    for stix_type in compiled.types:
                        self._by_type.setdefault(stix_type, []).append(compiled)
            self._seq = max(self._seq, last)


_INDEXES: WeakKeyDictionary[Engine, PatternIndex] = WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def index_of(conn: Connection) -> PatternIndex:
    """This process's pattern index of `conn`'s store (one per engine, so per node)."""
    with _INDEXES_LOCK:
        index = _INDEXES.get(conn.engine)
        if index is None:
            index = _INDEXES[conn.engine] = PatternIndex()
        return index


def matching(
    conn: Connection, reports: Iterable[Reported], tail: indicator_keys.Entries | None = None
) -> dict[str, list[str]]:
    """For each reported value token (`type:value`) the stored indicators whose non-equality patterns
    match it (sorted ids); values nothing matches, and indicator ids, are left out. `tail`: the
    indicators not indexed yet, if the caller has read them already."""
    observed = [
        (report.subject, observation)
        for report in reports
        if not report.is_indicator
        and (observation := _observation(report.subject, report.time, report.count)) is not None
    ]
    if not observed:
        return {}  # indicator ids only (STIX sightings): nothing to evaluate, nothing to read
    index = index_of(conn)
    tail = tail or indicator_keys.not_indexed_yet(conn)
    pending = index.refresh(conn) + _compiled(tail.patterns)
    found: dict[str, set[str]] = {}
    untimed_done: set[str] = set()
    for token, observation in observed:
        stix_type = "file" if observation.type in STIX_HASH_NAMES else observation.type.value
        first = token not in untimed_done
        untimed_done.add(token)
        for compiled in index.candidates(stix_type, pending):
            if (first or compiled.timed) and _matches(compiled, observation):
                found.setdefault(token, set()).add(compiled.indicator_id)
    if not found:
        return {}
    stored = store.held(conn, {i for ids in found.values() for i in ids})
    return {token: sorted(ids & stored) for token, ids in found.items() if ids & stored}


def with_matches(
    conn: Connection,
    held: dict[str, list[str]],
    reports: Iterable[Reported],
    tail: indicator_keys.Entries | None = None,
) -> dict[str, list[str]]:
    """`held` (token -> indicator ids, from `indicator_keys`) with the indicators whose non-equality
    patterns match the reported values added."""
    merged = dict(held)
    for token, ids in matching(conn, reports, tail).items():
        merged[token] = sorted({*merged.get(token, ()), *ids})
    return merged


def _matches(compiled: Compiled, observation: Observation) -> bool:
    try:
        return compiled.evaluator.matches(observation)
    except Exception:
        # The reference matcher refuses some comparisons it cannot make (ISSUBSET on an IPv6 address, in
        # stix2-matcher 2.0): no match, and never a failed sighting.
        return False


def _observation(token: str, when: datetime, count: int) -> Observation | None:
    kind, _, value = token.partition(":")
    try:
        return Observation(value, ValueType(kind), when, count)
    except ValueError:
        return None  # an indicator id, not a value


def _compiled(patterns: Iterable[tuple[str, str]]) -> list[Compiled]:
    return [c for indicator_id, pattern in patterns if (c := _compile(indicator_id, pattern)) is not None]


def _compile(indicator_id: str, pattern: str) -> Compiled | None:
    try:
        evaluator = PatternEvaluator(pattern)
        types = frozenset(evaluator.object_types())
    except Exception:
        return None  # a pattern the matcher cannot compile matches nothing
    return Compiled(indicator_id, pattern, evaluator, types, any(word in pattern for word in _TIMED))


def _on_commit(conn: Connection, action: Callable[[], None]) -> None:
    """Run `action` when `conn`'s transaction commits; forget it if the transaction rolls back."""
    armed = [True]

    def commit(_: Connection) -> None:
        if armed[0]:
            armed[0] = False
            action()

    def rollback(_: Connection) -> None:
        armed[0] = False

    event.listen(conn, "commit", commit, once=True)
    event.listen(conn, "rollback", rollback, once=True)
