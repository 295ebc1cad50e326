"""Which stored indicators name an observed value (issue 7, "Correlation"): the `indicator_keys` table,
filled as indicators are ingested, so matching a sighting is one indexed lookup.

Only `indicator` objects are looked at (the ingest hot path stays cheap for everything else). A pattern
that is an OR of equalities gives its values as tokens `type:value` (`gesher.warning.indicators`); every
indicator also names itself (token = its id), which is how a STIX sighting's `sighting_of_ref` is matched
and how "is this indicator held" is asked. Patterns that need evaluation (`AND`, `LIKE`, CIDR...) are held
by id only: values are not matched against them yet (see the service's notes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection

from gesher.stix.timestamps import to_micros
from gesher.store import warning as store
from gesher.warning.decay import NIDS_SIMPLE, model_for
from gesher.warning.indicators import MatchKey, match_keys


def _keys(indicator: Mapping[str, object]) -> tuple[MatchKey, ...]:
    pattern = indicator.get("pattern")
    if isinstance(pattern, str) and indicator.get("pattern_type", "stix") == "stix":
        return tuple(match_keys(pattern).keys)
    return ()


def pairs_of(
    indicator: Mapping[str, object], keys: Sequence[MatchKey] | None = None
) -> list[tuple[str, str]]:
    """(token, indicator id) pairs of one STIX indicator: its own id, and each value its pattern names."""
    indicator_id = str(indicator["id"])
    found = _keys(indicator) if keys is None else keys
    return [(indicator_id, indicator_id), *((str(key), indicator_id) for key in found)]


def record(conn: Connection, objects: Iterable[Mapping[str, object]]) -> None:
    """Remember the match keys and decay inputs of the indicators among `objects` (other types are
    skipped at once). Each pattern is read once: this runs on ingest's hot path."""
    indicators = [(obj, _keys(obj)) for obj in objects if obj.get("type") == "indicator"]
    if not indicators:
        return
    store.add_indicator_keys(conn, [p for obj, keys in indicators for p in pairs_of(obj, keys)])
    store.set_decay(conn, [decay_row(obj, keys) for obj, keys in indicators])


def decay_row(indicator: Mapping[str, object], keys: Sequence[MatchKey] | None = None) -> dict[str, object]:
    """An indicator's decay inputs (reference 4.4): the model for the type of the first value it names
    (NIDS-simple when it names none), phishing when labelled so; the base score its STIX `confidence`
    (0-100) or the model's default; the clock reset by its `modified` (MISP: the attribute timestamp)."""
    if keys is None:
        pattern = indicator.get("pattern")
        keys = tuple(match_keys(pattern).keys) if isinstance(pattern, str) else ()
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


def indicators_for(conn: Connection, tokens: Sequence[str]) -> dict[str, list[str]]:
    """For each token some stored indicator names, those indicators' ids."""
    return store.indicators_for(conn, tokens)
