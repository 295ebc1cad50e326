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

from gesher.store import warning as store
from gesher.warning.indicators import match_keys


def pairs_of(indicator: Mapping[str, object]) -> list[tuple[str, str]]:
    """(token, indicator id) pairs of one STIX indicator: its own id, and each value its pattern names."""
    indicator_id = str(indicator["id"])
    pairs = [(indicator_id, indicator_id)]
    pattern = indicator.get("pattern")
    if isinstance(pattern, str) and indicator.get("pattern_type", "stix") == "stix":
        derivation = match_keys(pattern)
        pairs += [(str(key), indicator_id) for key in derivation.keys]
    return pairs


def record(conn: Connection, objects: Iterable[Mapping[str, object]]) -> None:
    """Remember the match keys of the indicators among `objects` (other types are skipped at once)."""
    pairs = [p for obj in objects if obj.get("type") == "indicator" for p in pairs_of(obj)]
    store.add_indicator_keys(conn, pairs)


def indicators_for(conn: Connection, tokens: Sequence[str]) -> dict[str, list[str]]:
    """For each token some stored indicator names, those indicators' ids."""
    return store.indicators_for(conn, tokens)
