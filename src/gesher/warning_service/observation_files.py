"""Observation files in bulk (issue 7, "Sightings in" and "Performance"): a sensor's or SIEM's export,
millions of observed values, matched by the matching engine (`matching.IndicatorIndex`) against every value
a stored indicator names and every value partners sighted within the longest rule window; only what
matches becomes sightings.

What matches nothing is not kept: an export is mostly a partner's ordinary traffic, and the exchange has
no business holding it (nor the rate limit room: one file would be millions of sightings). Matched
observations are folded into one report per value and sighting type, with their summed count and the
latest time seen (what the rules' windows weigh), then recorded by `sightings.record` exactly as a
sighting over TAXII would be. A file is taken whole or not at all: any malformed line refuses it with
the pure parser's line-precise errors, before anything is written.

Values are matched by equality (indicators whose pattern needs evaluation match sightings of single
values, `gesher sighting add` and TAXII, not bulk files)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from gesher.store import indicator_index
from gesher.store import warning as warning_store
from gesher.store.partners import PartnerRow
from gesher.warning.observations import DEFAULT_LIMITS, Format, Limits
from gesher.warning_service import indicator_keys, sightings
from gesher.warning_service.config import WarningConfig
from gesher.warning_service.correlation import micros
from gesher.warning_service.matching import IndicatorIndex, Match
from gesher.warning_service.sightings import Outcome, Report


@dataclass(frozen=True)
class Loaded:
    """What loading files did: observations matched, reports made of them, and the recording's outcome."""

    matched: int
    reports: int
    outcome: Outcome


def load(
    conn: Connection,
    partner: PartnerRow,
    paths: Sequence[Path],
    fmt: Format,
    now: datetime,
    config: WarningConfig,
    identity: str,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """Match `paths` and record the matches as `partner`'s sightings, in the caller's transaction."""
    matches = match(conn, paths, fmt, now, config, limits)
    reports = fold(matches)
    outcome = sightings.record(conn, partner, reports, now, config, identity, source="file")
    return Loaded(len(matches), len(reports), outcome)


def match(
    conn: Connection,
    paths: Sequence[Path],
    fmt: Format,
    now: datetime,
    config: WarningConfig,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Match]:
    """The observations in `paths` whose value (of the same type) an indicator names or a partner sighted
    recently. `ObservationError` refuses a malformed file whole."""
    indicator_keys.catch_up(conn)
    since = micros(now - config.ruleset.longest)
    tokens = set(indicator_index.all_tokens(conn)) | set(warning_store.recent_tokens(conn, since))
    engine = IndicatorIndex(_pairs(tokens))
    try:
        found = engine.match_files(list(paths), fmt, now, limits)
    finally:
        engine.close()
    # The engine matches values; a token is typed (an IPv4 address and a domain may share a spelling).
    return [m for m in found if m.key == f"{m.type.value}:{m.value}"]


def _pairs(tokens: set[str]) -> Iterator[tuple[str, str]]:
    for token in tokens:
        kind, sep, value = token.partition(":")
        if sep and not kind.startswith("indicator--"):
            yield value, token


def fold(matches: Sequence[Match]) -> list[Report]:
    """One report per (value, sighting type): counts summed, the latest time kept."""
    folded: dict[tuple[str, int], Report] = {}
    for m in matches:
        key = (m.key, int(m.sighting))
        held = folded.get(key)
        time = m.time if held is None else max(held.time, m.time)
        count = m.count if held is None else held.count + m.count
        folded[key] = Report(m.key, time, m.sighting, min(count, _MAX_COUNT))
    return [folded[k] for k in sorted(folded)]


_MAX_COUNT = 2**31 - 1  # the sightings table's count column
