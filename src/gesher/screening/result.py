"""What a screening returns: the outcome, the candidates with their features, and everything needed to
show afterwards why (list versions, algorithm, thresholds). `as_json()` gives plain JSON types;
`explanation_lines()` gives the text a vetting officer reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from gesher.errors import ConfigurationError
from gesher.screening.evaluate import Feature

Band = Literal["match", "review"]
Outcome = Literal["match", "review", "clear", "unknown"]


@dataclass(frozen=True)
class Thresholds:
    """Scores at or above `match` are matches, at or above `review` need a human; below, no candidate.
    Defaults: yente's 0.70, and the 0.50-0.70 review band the reference recommends."""

    match: float = 0.70
    review: float = 0.50

    def __post_init__(self) -> None:
        if not 0.0 < self.review < self.match <= 1.0:
            raise ConfigurationError(
                f"screening thresholds must satisfy 0 < review < match <= 1 (review {self.review}, "
                f"match {self.match})"
            )

    @property
    def review_cap(self) -> float:
        """The highest score a capped candidate (weak alias only, single name part) may have."""
        return max(self.review, round(self.match - 0.01, 4))

    def band(self, score: float) -> Band | None:
        if score >= self.match:
            return "match"
        return "review" if score >= self.review else None


@dataclass(frozen=True)
class Candidate:
    """A watchlist entry that resembles the query. `matched_name` is the entry's name (or alias) that
    matched best; `listed` is its status on the screening date (a delisted entry is reported, but never
    makes the outcome)."""

    entry_id: str
    list_name: str
    list_version: str
    schema: str
    entry_name: str
    matched_name: str
    score: float
    band: Band
    listed: bool
    status: str
    countries: tuple[str, ...]
    features: tuple[Feature, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "entry_id": self.entry_id,
            "list": self.list_name,
            "list_version": self.list_version,
            "schema": self.schema,
            "entry_name": self.entry_name,
            "matched_name": self.matched_name,
            "score": self.score,
            "band": self.band,
            "listed": self.listed,
            "status": self.status,
            "countries": list(self.countries),
            "features": [
                {"name": f.name, "value": f.value, "explanation": f.explanation} for f in self.features
            ],
        }


@dataclass(frozen=True)
class ScreeningResult:
    """The answer for one name. `outcome`: `match` or `review` when a listed candidate is in that band;
    else `unknown` when a confidential list is loaded (its members are not published, so no hit does not
    mean clear); else `clear`."""

    query: str
    normalised: str
    schema: str | None
    country: str | None
    on: date
    outcome: Outcome
    candidates: tuple[Candidate, ...]
    list_versions: dict[str, str]
    confidential_lists: tuple[str, ...]
    algorithm: str
    thresholds: Thresholds

    def as_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "normalised": self.normalised,
            "schema": self.schema,
            "country": self.country,
            "on": self.on.isoformat(),
            "outcome": self.outcome,
            "candidates": [c.as_json() for c in self.candidates],
            "list_versions": dict(self.list_versions),
            "confidential_lists": list(self.confidential_lists),
            "algorithm": self.algorithm,
            "thresholds": {"match": self.thresholds.match, "review": self.thresholds.review},
        }

    def _headline(self) -> str:
        if self.outcome == "unknown":
            lists = ", ".join(self.confidential_lists)
            return f"UNKNOWN: no public hit, but the confidential list(s) {lists} cannot be checked by name"
        if self.outcome == "clear":
            return "CLEAR: no listed candidate reaches the review band"
        listed = sum(c.listed and c.band == self.outcome for c in self.candidates)
        return f"{self.outcome.upper()}: {listed} listed candidate(s) in the {self.outcome} band"

    def explanation_lines(self) -> list[str]:
        """A human explanation, one line per fact, candidates best first with their features."""
        lines = [
            f"Screening {self.query!r} (normalised {self.normalised!r}) on {self.on.isoformat()}",
            self._headline(),
            "Lists: "
            + ", ".join(f"{name} {version}" for name, version in sorted(self.list_versions.items())),
            f"Algorithm {self.algorithm}; bands: match >= {self.thresholds.match}, "
            f"review >= {self.thresholds.review}",
        ]
        for number, c in enumerate(self.candidates, start=1):
            lines.append(
                f"{number}. {c.entry_name} [{c.list_name}:{c.entry_id}] score {c.score:.2f} ({c.band}), "
                f"matched {c.matched_name!r}; {c.status}"
            )
            lines += [f"   {f.name} {f.value:+.2f}: {f.explanation}" for f in c.features]
        return lines
