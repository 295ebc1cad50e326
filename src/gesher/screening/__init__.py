"""Denied-party screening: pure name matching against watchlists (no web, no database).

Public API (everything else is internal):

    from gesher.screening import Screener, Thresholds, load_watchlists, shipped_watchlists

    lists = load_watchlists(data, "national.csv", published=date(2026, 1, 1))   # -> list[Watchlist]
    screener = Screener([*shipped_watchlists(), *lists], Thresholds(match=0.70, review=0.50))
    result = screener.screen("Intelexa SA", schema=None, country="GR", on=date(2026, 1, 5))
    result.outcome              # "match" | "review" | "clear" | "unknown"
    result.as_json()            # plain JSON types: candidates, features, list versions, algorithm
    result.explanation_lines()  # what a vetting officer reads

- Loading: `load_watchlists(data, filename, *, name=None, version=None, published=None)` reads gesher
  JSON, FollowTheMoney JSON lines or CSV by file name (`parse_json`, `parse_ftm`, `parse_csv` for one
  format); `shipped_watchlists()` / `shipped_watchlist()` give the spyware list shipped in `data/`. A bad
  file raises `WatchlistFileError` (422) naming the file, record or line, and field.
- Model: `Watchlist(name, version, published, confidential, source, entries)`, `WatchlistEntry(id, schema,
  name, aliases, weak_aliases, countries, identifiers, actions, related_not_listed, sources)` with
  `listed_on(date)`, and `ListAction(authority, list, action, date, citation, reason)`.
- Screening: `Screener(watchlists, thresholds)` indexes once; `screen(name, *, schema, country, on)`
  returns a `ScreeningResult` of `Candidate`s (entry, list and version, matched name, score 0..1, band,
  listed status, `Feature`s). A name that cannot be screened raises `ScreeningInputError` (422).
- Outcome: `match`/`review` when a *listed* candidate is in that band; `unknown` when none is but a
  confidential list is loaded (no hit never reads as clear); else `clear`.
- Names: `normalise(name)` and `skeleton(name)` show how a name is compared.

How names are compared (features, weights, thresholds, Hebrew and Arabic) is explained in names.py,
vocabulary.py, score.py and evaluate.py.
"""

from gesher.screening.errors import ScreeningInputError, WatchlistFileError
from gesher.screening.evaluate import Feature
from gesher.screening.loaders import (
    load_watchlists,
    parse_csv,
    parse_ftm,
    parse_json,
    shipped_watchlist,
    shipped_watchlists,
)
from gesher.screening.matcher import ALGORITHM, Screener
from gesher.screening.names import normalise, skeleton
from gesher.screening.result import Candidate, ScreeningResult, Thresholds
from gesher.screening.watchlist import ListAction, Watchlist, WatchlistEntry

__all__ = [
    "ALGORITHM",
    "Candidate",
    "Feature",
    "ListAction",
    "Screener",
    "ScreeningInputError",
    "ScreeningResult",
    "Thresholds",
    "Watchlist",
    "WatchlistEntry",
    "WatchlistFileError",
    "load_watchlists",
    "normalise",
    "parse_csv",
    "parse_ftm",
    "parse_json",
    "shipped_watchlist",
    "shipped_watchlists",
    "skeleton",
]
