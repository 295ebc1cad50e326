"""Observed values against the stored indicators whose patterns are not simple equalities (issue 7,
"Correlation": other patterns evaluated properly).

An equality pattern names its values, and `indicator_keys` finds them with one indexed lookup. A pattern
with `LIKE`, `MATCHES`, `ISSUBSET` (an address in a CIDR network), `<`/`>`, `!=`, `AND`, `FOLLOWEDBY` or
qualifiers cannot be looked up by value: it has to be run on the value. So each worker process keeps the
compiled evaluators (`PatternEvaluator`, the OASIS matcher) of those patterns, grouped by the
cyber-observable types they compare, and a reported value `type:value` is evaluated against the ones of its
type only. The cost of a sighting is proportional to those few patterns, not to all indicators.

The cache is refreshed from the store at every sighting, so workers stay stateless: a per-collection cursor
on date_added, one query for the collections' heads (`last_date_added`), and a range read of only the
collections that stored something since. Indicator versions read in the sighting's own transaction (an
indicator posted with its sighting) are used at once but join the cache, and move its cursors, only when
that transaction commits: a rolled-back ingest leaves no trace, and its date_added values, handed out
again, are read again. Evaluators whose indicator has since been deleted are answered by a check that the
matched ids are still stored. A process's first sighting reads every stored indicator version once (the
equality ones are skipped with a regular expression, never parsed).

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

import orjson
from sqlalchemy import Connection, Engine, event

from gesher.store import pattern_index as store
from gesher.warning.indicators import STIX_HASH_NAMES, PatternEvaluator, is_evaluated
from gesher.warning.observations import Observation
from gesher.warning.values import ValueType

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
    """One process's compiled non-equality patterns of one store, grouped by observable type, with the
    per-collection cursors up to which it has read. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: dict[int, int] = {}
        self._by_type: dict[str, list[Compiled]] = {}
        self._seen: set[tuple[str, str]] = set()  # (indicator id, pattern): compiled or not compilable

    def refresh(self, conn: Connection) -> list[Compiled]:
        """Read the indicator versions stored since the cursors; the patterns among them not cached yet,
        which join the cache when `conn`'s transaction commits."""
        heads = store.collection_heads(conn)
        with self._lock:
            todo = {key: (self._cursors.get(key, 0), head) for key, head in heads.items()}
            todo = {key: (after, head) for key, (after, head) in todo.items() if head > after}
            seen = set(self._seen)
        if not todo:
            return []
        fresh: dict[tuple[str, str], Compiled | None] = {}
        for key, (after, head) in todo.items():
            for body in store.indicators_between(conn, key, after, head):
                _compile(body, seen, fresh)
        _on_commit(conn, lambda: self._merge(todo, fresh))
        return [c for c in fresh.values() if c is not None]

    def candidates(self, stix_type: str, pending: Sequence[Compiled]) -> list[Compiled]:
        """The patterns that compare `stix_type`: cached, and read in this transaction."""
        with self._lock:
            cached = list(self._by_type.get(stix_type, ()))
        known = {(c.indicator_id, c.pattern) for c in cached}
        extra = [c for c in pending if stix_type in c.types and (c.indicator_id, c.pattern) not in known]
        return cached + extra

    def _merge(self, todo: dict[int, tuple[int, int]], fresh: dict[tuple[str, str], Compiled | None]) -> None:
        with self._lock:
            for key, compiled in fresh.items():
                if key in self._seen:
                    continue  # another transaction of this process cached it first
                self._seen.add(key)
                if compiled is not None:
                    for stix_type in compiled.types:
                        self._by_type.setdefault(stix_type, []).append(compiled)
            for collection, (_, head) in todo.items():
                self._cursors[collection] = max(self._cursors.get(collection, 0), head)


_INDEXES: WeakKeyDictionary[Engine, PatternIndex] = WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def index_of(conn: Connection) -> PatternIndex:
    """This process's pattern index of `conn`'s store (one per engine, so per node)."""
    with _INDEXES_LOCK:
        index = _INDEXES.get(conn.engine)
        if index is None:
            index = _INDEXES[conn.engine] = PatternIndex()
        return index


def matching(conn: Connection, reports: Iterable[Reported]) -> dict[str, list[str]]:
    """For each reported value token (`type:value`) the stored indicators whose non-equality patterns
    match it (sorted ids); values nothing matches, and indicator ids, are left out."""
    index = index_of(conn)
    pending = index.refresh(conn)
    found: dict[str, set[str]] = {}
    untimed_done: set[str] = set()
    for report in reports:
        token = report.subject
        observation = None if report.is_indicator else _observation(token, report.time, report.count)
        if observation is None:
            continue
        stix_type = "file" if observation.type in STIX_HASH_NAMES else observation.type.value
        first = token not in untimed_done
        untimed_done.add(token)
        for compiled in index.candidates(stix_type, pending):
            if (first or compiled.timed) and _matches(compiled, observation):
                found.setdefault(token, set()).add(compiled.indicator_id)
    if not found:
        return {}
    stored = store.stored(conn, {i for ids in found.values() for i in ids})
    return {token: sorted(ids & stored) for token, ids in found.items() if ids & stored}


def with_matches(
    conn: Connection, held: dict[str, list[str]], reports: Iterable[Reported]
) -> dict[str, list[str]]:
    """`held` (token -> indicator ids, from `indicator_keys`) with the indicators whose non-equality
    patterns match the reported values added."""
    merged = dict(held)
    for token, ids in matching(conn, reports).items():
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


def _compile(body: bytes, seen: set[tuple[str, str]], fresh: dict[tuple[str, str], Compiled | None]) -> None:
    indicator = orjson.loads(body)
    pattern = indicator.get("pattern")
    if not isinstance(pattern, str) or indicator.get("pattern_type", "stix") != "stix":
        return
    key = (str(indicator.get("id")), pattern)
    if key in seen or key in fresh or not is_evaluated(pattern):
        return
    try:
        evaluator = PatternEvaluator(pattern)
        types = frozenset(evaluator.object_types())
    except Exception:
        fresh[key] = None
        return
    timed = any(word in pattern for word in _TIMED)
    fresh[key] = Compiled(key[0], pattern, evaluator, types, timed)


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
