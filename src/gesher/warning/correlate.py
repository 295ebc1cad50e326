"""Cross-partner correlation of one token (an indicator, or an observed value, or its pseudonym): who has
seen it lately, counted so that repetition does not count (reference `privacy_warning.md` 4.2).

    reporters(T)  distinct reporters with a type-0 sighting in [now - T, now]
                  (one reporter counts once however often it repeats: flood-proof)
    sectors(T)    their distinct sectors;   countries(T) their distinct countries
    W(T)          sum of their source reliabilities r in [0, 1] (Admiralty A..F, MISP's numerical values)
    confidence(T) noisy-OR: 1 - prod(1 - r)
    fp            reporters whose latest word on the token is a false positive (not superseded by a later
                  sighting of theirs)

A reporter's false-positive (1) or expiration (2) report withdraws its earlier sightings: it stops
counting until it sights the token again. Only each reporter's latest times are kept, so memory per token
is bounded by the number of reporters, whatever they send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gesher.warning.decay import SOURCE_RELIABILITY
from gesher.warning.observations import SightingType


@dataclass(frozen=True)
class Reporter:
    """A reporting partner as the registry knows it: id, sector, country, Admiralty source reliability
    (A-F), and whether it operates critical infrastructure. Never leaves the core in an alert."""

    id: str
    sector: str
    country: str
    reliability: str = "F"
    critical: bool = False

    def __post_init__(self) -> None:
        if self.reliability.upper() not in SOURCE_RELIABILITY:
            raise ValueError(f"source reliability {self.reliability!r} is not an Admiralty grade A-G")


def reliability(grade: str) -> float:
    """Admiralty source reliability as r in [0, 1]: MISP's numerical value / 100 (A 1.0, B 0.75, C 0.5,
    D 0.25, E 0, F 0.5 as 'cannot be judged', G 0)."""
    return SOURCE_RELIABILITY[grade.upper()] / 100.0


@dataclass(frozen=True)
class Sighting:
    """One report: `reporter` saw `token` at `time` (`count` times), of MISP sighting `type`."""

    token: str
    reporter: Reporter
    time: datetime
    type: SightingType = SightingType.SIGHTING
    count: int = 1


@dataclass
class ReporterState:
    """What one reporter last said about one token: its latest sighting, false positive and expiration."""

    reporter: Reporter
    last_seen: datetime | None = None
    last_false_positive: datetime | None = None
    last_expiration: datetime | None = None

    def record(self, sighting: Sighting) -> None:
        """Keep the latest time of each type (reports may arrive out of order)."""
        attribute = {
            SightingType.SIGHTING: "last_seen",
            SightingType.FALSE_POSITIVE: "last_false_positive",
            SightingType.EXPIRATION: "last_expiration",
        }[sighting.type]
        current = getattr(self, attribute)
        if current is None or sighting.time > current:
            setattr(self, attribute, sighting.time)

    def active(self, since: datetime) -> bool:
        """Sighted at or after `since`, and not withdrawn by a later false positive or expiration."""
        if self.last_seen is None or self.last_seen < since:
            return False
        withdrawn = [t for t in (self.last_false_positive, self.last_expiration) if t is not None]
        return not withdrawn or self.last_seen > max(withdrawn)

    def false_positive(self) -> bool:
        """Its latest word is a false positive."""
        fp = self.last_false_positive
        return fp is not None and (self.last_seen is None or fp >= self.last_seen)


@dataclass(frozen=True)
class WindowStats:
    """Counts for one token over [now - window, now]. Internal: the rules read it; alerts publish from it
    only what k-anonymity allows."""

    window: timedelta
    reporters: int
    sectors: frozenset[str]
    countries: frozenset[str]
    critical: bool
    weight: float
    confidence: float
    false_positives: int


def window_stats(states: Iterable[ReporterState], now: datetime, window: timedelta) -> WindowStats:
    """The distinct reporters, sectors, countries, reliability sum W, noisy-OR confidence and standing
    false positives of one token's reporter states over the window ending at `now`."""
    states = list(states)
    active = [s.reporter for s in states if s.active(now - window)]
    miss = 1.0
    for reporter in active:
        miss *= 1.0 - reliability(reporter.reliability)
    return WindowStats(
        window=window,
        reporters=len(active),
        sectors=frozenset(r.sector for r in active),
        countries=frozenset(r.country for r in active),
        critical=any(r.critical for r in active),
        weight=sum(reliability(r.reliability) for r in active),
        confidence=1.0 - miss,
        false_positives=sum(1 for s in states if s.false_positive()),
    )
