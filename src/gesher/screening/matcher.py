"""The screener: build it once over the loaded watchlists, then screen names against it.

    screener = Screener([shipped_watchlist()], Thresholds(match=0.70, review=0.50))
    result = screener.screen("Intelexa SA", country="GR", on=date(2026, 1, 5))
    result.outcome          # "match"
    result.candidates[0]    # intellexa-sa, score 0.80, features ...

Candidates come from the inverted index (index.py); each is scored on all its names (score.py) and
entry-level rules (evaluate.py). Only candidates in the review band or above are returned, entries no
longer listed on the screening date included (with `listed=False`): they are shown, but never make a
`match` or `review` outcome on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Final

from gesher.errors import ConfigurationError
from gesher.screening.errors import ScreeningInputError
from gesher.screening.evaluate import features, score_entry
from gesher.screening.forms import org_form, person_form
from gesher.screening.index import IndexedEntry, NameIndex
from gesher.screening.names import normalise
from gesher.screening.records import MAX_NAME
from gesher.screening.result import Candidate, Outcome, ScreeningResult, Thresholds
from gesher.screening.score import ONE_WORD_PERSON_BOUND
from gesher.screening.watchlist import SCHEMAS, Watchlist, country_code

ALGORITHM: Final = "gesher-screen-1.0"
_PERSON_ONLY: Final = frozenset({"Person"})
_ORG_ONLY: Final = frozenset({"Company", "Organization"})


def _compatible(query_schema: str | None, entry_schema: str) -> bool:
    """A person query is not screened against companies and organisations, nor the other way round."""
    if query_schema in _PERSON_ONLY:
        return entry_schema not in _ORG_ONLY
    if query_schema in _ORG_ONLY:
        return entry_schema not in _PERSON_ONLY
    return True


def _checked_name(name: str) -> str:
    if len(name) > MAX_NAME:
        raise ScreeningInputError(f"name too long: {len(name)} characters (at most {MAX_NAME})")
    normalised = normalise(name)
    if not normalised:
        raise ScreeningInputError(f"name {name!r} has nothing to compare (no letters or digits)")
    return normalised


def _checked_country(country: str | None) -> str | None:
    if country is None:
        return None
    code = country_code(country)
    if code is None:
        raise ScreeningInputError(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    return code


class Screener:
    """Watchlists indexed once; `screen` is then pure and thread-safe (nothing is mutated)."""

    def __init__(self, watchlists: Iterable[Watchlist], thresholds: Thresholds | None = None) -> None:
        self.watchlists = tuple(watchlists)
        self.thresholds = thresholds or Thresholds()
        names = [w.name for w in self.watchlists]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"watchlist names must be unique, got {names}")
        self.list_versions = {w.name: w.version for w in self.watchlists}
        self.confidential_lists = tuple(w.name for w in self.watchlists if w.confidential)
        self._index = NameIndex(self.watchlists)
        self._two_words = self.thresholds.review > ONE_WORD_PERSON_BOUND

    def _candidate(self, indexed: IndexedEntry, name: str, country: str | None, on: date) -> Candidate | None:
        query = person_form(name) if indexed.kind == "person" else org_form(name)
        result = score_entry(query, indexed, country, self.thresholds.review_cap)
        band = self.thresholds.band(result.score)
        if band is None:
            return None
        entry = indexed.entry
        best = result.best.name.text if result.best is not None and result.best.base > 0 else None
        return Candidate(
            entry_id=entry.id,
            list_name=indexed.watchlist.name,
            list_version=indexed.watchlist.version,
            schema=entry.schema,
            entry_name=entry.name,
            matched_name=result.weak_only.text if result.weak_only is not None else best or entry.name,
            score=result.score,
            band=band,
            listed=entry.listed_on(on),
            status=entry.status_on(on),
            countries=entry.countries,
            features=tuple(features(result, indexed, query, country)),
        )

    def _outcome(self, candidates: Iterable[Candidate], confidential: tuple[str, ...]) -> Outcome:
        bands = {c.band for c in candidates if c.listed}
        if "match" in bands:
            return "match"
        if "review" in bands:
            return "review"
        return "unknown" if confidential else "clear"

    def screen(
        self,
        name: str,
        *,
        schema: str | None = None,
        country: str | None = None,
        on: date | None = None,
    ) -> ScreeningResult:
        """Screen one name (a person's or an organisation's; `schema` narrows it) as of `on` (default:
        today, UTC). `country` (ISO 3166-1 alpha-2) lowers the score of entries of other countries."""
        normalised = _checked_name(name)
        if schema is not None and schema not in SCHEMAS:
            raise ScreeningInputError(f"unknown schema {schema!r} (expected one of {', '.join(SCHEMAS)})")
        code = _checked_country(country)
        day = on or datetime.now(UTC).date()
        found = [
            candidate
            for indexed in self._index.candidates(person_form(name), self._two_words)
            if _compatible(schema, indexed.entry.schema)
            and (candidate := self._candidate(indexed, name, code, day)) is not None
        ]
        found.sort(key=lambda c: (-c.score, not c.listed, c.list_name, c.entry_id))
        # Confidential lists that could hold a party of this schema: for them, no hit is not clear.
        confidential = tuple(w.name for w in self.watchlists if w.confidential and w.may_hold(schema))
        return ScreeningResult(
            query=name,
            normalised=normalised,
            schema=schema,
            country=code,
            on=day,
            outcome=self._outcome(found, confidential),
            candidates=tuple(found),
            list_versions=dict(self.list_versions),
            confidential_lists=confidential,
            algorithm=ALGORITHM,
            thresholds=self.thresholds,
        )
