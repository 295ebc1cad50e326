"""The indicator index (issue 7, "Correlation"), kept OFF ingest's hot path: which stored indicators name
an observed value, and which patterns must be run on one.

Two tables, built together: `indicator_keys` maps each value an equality pattern names (`type:value`,
from `gesher.warning.indicators`) to the indicator; `indicator_patterns` keeps the patterns that are not
equalities (`LIKE`, CIDR, `AND`...) for `pattern_index`. Ingest writes neither: a value-keyed index is a
random insert per indicator, which at a million indicators cost ingest more than half its rate (13.4k ->
3.0k objects/s in `make bench`). Instead `catch_up` reads the indicator versions stored since each
collection's cursor, once, and files each: from the server's background builder (`indicator_builder`),
from every sighting's transaction (bounded), and from the CLI.

A lookup never waits for the builder: `not_indexed_yet` gives the versions stored after the cursors, which
`indicators_for` and `pattern_index` read directly, so an indicator stored a moment ago matches at once.
Whether an indicator is held (its id named by a STIX sighting, or an indexed indicator since deleted) is
asked of stix_objects itself. An indicator's decay inputs are read from its newest stored version when
correlation asks (`decay_inputs`): rare, and never on ingest's path."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection

from gesher.stix.timestamps import to_micros
from gesher.store import indicator_index as store
from gesher.warning.decay import NIDS_SIMPLE, model_for
from gesher.warning.indicators import MatchKey, match_keys

# What one sighting's transaction indexes at most before falling back to reading the rest directly: the
# background builder normally leaves nothing, and after a burst of ingest no sighting should stall long.
SIGHTING_CATCH_UP = 20_000


def _keys(indicator: Mapping[str, object]) -> tuple[MatchKey, ...]:
    pattern = _stix_pattern(indicator)
    return tuple(match_keys(pattern).keys) if pattern is not None else ()


def _stix_pattern(indicator: Mapping[str, object]) -> str | None:
    pattern = indicator.get("pattern")
    if isinstance(pattern, str) and indicator.get("pattern_type", "stix") == "stix":
        return pattern
    return None


def pairs_of(indicator: Mapping[str, object]) -> list[tuple[str, str]]:
    """(token, indicator id) pairs of one STIX indicator: each value its pattern names."""
    indicator_id = str(indicator["id"])
    return [(str(key), indicator_id) for key in _keys(indicator)]


@dataclass(frozen=True)
class Entries:
    """What a run of stored indicator versions adds to the index: value pairs and evaluated patterns."""

    pairs: list[tuple[str, str]]
    patterns: list[tuple[str, str]]


def entries_of(bodies: Iterable[bytes]) -> Entries:
    """Each stored indicator version read once: its values if its pattern is an OR of equalities, else
    (indicator id, pattern) to be evaluated."""
    found = Entries([], [])
    for body in bodies:
        indicator = orjson.loads(body)
        pattern = _stix_pattern(indicator)
        if pattern is None:
            continue
        derived = match_keys(pattern)
        if derived.evaluate:
            found.patterns.append((str(indicator["id"]), pattern))
        else:
            found.pairs.extend((str(key), str(indicator["id"])) for key in derived.keys)
    return found


def catch_up(conn: Connection, limit: int | None = None) -> int:
    """Index the indicator versions stored since the cursors, at most `limit` of them (all if None), in
    the caller's write transaction; how many were read. One builder at a time across workers."""
    store.lock_cursors(conn)
    done = 0
    for collection_key, after in store.cursors(conn).items():
        left = None if limit is None else limit - done
        if left is not None and left <= 0:
            break
        rows = store.indicators_after(conn, collection_key, after, left)
        if rows:
            entries = entries_of(body for _, body in rows)
            store.add_keys(conn, entries.pairs)
            store.add_patterns(conn, entries.patterns)
            store.advance(conn, collection_key, rows[-1][0])
            done += len(rows)
    return done


def not_indexed_yet(conn: Connection) -> Entries:
    """The entries of the indicator versions stored after the cursors (few, unless the builder is behind:
    it waits out bursts of ingest)."""
    cursors = store.cursors(conn).items()
    return entries_of(
        body for key, after in cursors for _, body in store.indicators_after(conn, key, after, None)
    )


def indicators_for(
    conn: Connection, tokens: Sequence[str], tail: Entries | None = None
) -> dict[str, list[str]]:
    """For each token: the held indicators naming it (a value token `type:value`), or the indicator
    itself (an indicator id, if held). Tokens nothing names are left out. `tail`: `not_indexed_yet`, if
    the caller has read it already (a sighting reads it once for values and patterns)."""
    values = {t for t in tokens if not _is_indicator_id(t)}
    found = store.indicators_naming(conn, sorted(values))
    for token, indicator_id in (tail or not_indexed_yet(conn)).pairs:
        if token in values:
            found.setdefault(token, set()).add(indicator_id)
    ids = {t for t in tokens if _is_indicator_id(t)}
    held = store.held(conn, ids.union(*found.values()))
    result = {token: sorted(named & held) for token, named in found.items() if named & held}
    result.update({i: [i] for i in ids if i in held})
    return result


def _is_indicator_id(token: str) -> bool:
    return token.startswith("indicator--") and ":" not in token


def decay_inputs(conn: Connection, indicator_id: str) -> tuple[str, float, int] | None:
    """An indicator's decay inputs from its newest stored version (model, base score, reset time in
    microseconds), or None if it is not held."""
    body = store.latest_indicator(conn, indicator_id)
    if body is None:
        return None
    row = decay_row(orjson.loads(body))
    return str(row["model"]), float(row["base_score"]), int(row["reset_at"])  # type: ignore[call-overload]


def decay_row(indicator: Mapping[str, object]) -> dict[str, object]:
    """An indicator's decay inputs (reference 4.4): the model for the type of the first value it names
    (NIDS-simple when it names none), phishing when labelled so; the base score its STIX `confidence`
    (0-100) or the model's default; the clock reset by its `modified` (MISP: the attribute timestamp)."""
    keys = _keys(indicator)
    labels = [str(v) for name in ("labels", "indicator_types") for v in _strings(indicator.get(name))]
    model = model_for(keys[0].type, labels) if keys else NIDS_SIMPLE
    confidence = indicator.get("confidence")
    base = float(confidence) if isinstance(confidence, int) else model.default_base_score
    return {
        "indicator_id": str(indicator["id"]),
        "model": model.name,
        "base_score": base,
        "reset_at": to_micros(str(indicator.get("modified") or indicator.get("created"))),
    }


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
