"""Screening names against the watchlists in force, and recording every screening with the list versions it
used. Each process keeps one screener, rebuilt when any process loads a list (the store says which lists
are in force)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import orjson
from sqlalchemy import Connection

from gesher.errors import Conflict
from gesher.ledger.entries import Kind, make
from gesher.ledger_service import log as ledger
from gesher.screening import Screener, ScreeningResult, Thresholds, load_watchlists
from gesher.screening.watchlist import Watchlist
from gesher.stix.timestamps import now_micros
from gesher.store import vetting as records
from gesher.store import watchlists as store

# Worst last; an organisation's outcome is the worst over its names.
SEVERITY = {"clear": 0, "unknown": 1, "review": 2, "match": 3}


class Screeners:
    """The screener over the lists in force, per process (like the policy's Clearance)."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self._built: tuple[int, Screener] | None = None

    def current(self, conn: Connection) -> Screener:
        state = store.state(conn)
        if self._built is None or self._built[0] != state:
            self._built = (state, Screener(lists_in_force(conn), self.thresholds))
        return self._built[1]


def lists_in_force(conn: Connection) -> list[Watchlist]:
    """The newest version of every list, parsed again from the file it was loaded from."""
    wanted = {(s.name, s.version): s for s in store.in_force(conn)}
    found: list[Watchlist] = []
    for stored in store.files(conn, sorted({s.file_id for s in wanted.values()})):
        given = orjson.loads(stored.arguments)
        for watchlist in load_watchlists(stored.content, stored.filename, **_arguments(given)):
            if (watchlist.name, watchlist.version) in wanted:
                found.append(watchlist)
    return found


def _arguments(given: dict[str, object]) -> dict[str, object]:
    published = given.get("published")
    return {**given, "published": date.fromisoformat(str(published)) if published else None}


@dataclass(frozen=True)
class NamesScreening:
    """One subject screened under each of its names: the worst outcome and every result."""

    subject: str
    outcome: str
    results: tuple[ScreeningResult, ...]

    @property
    def hits(self) -> list[str]:
        """The listed entries behind the outcome, as 'name (list version)'."""
        return [
            f"{c.entry_name} ({c.list_name} {c.list_version})"
            for r in self.results
            for c in r.candidates
            if c.listed and c.band == r.outcome
        ]


def screen_names(
    screener: Screener, subject: str, names: Iterable[str], country: str | None, schema: str | None
) -> NamesScreening:
    results = tuple(screener.screen(n, schema=schema, country=country) for n in dict.fromkeys(names))
    worst = max((r.outcome for r in results), key=SEVERITY.__getitem__, default="clear")
    return NamesScreening(subject, worst, results)


def screen_query(
    screeners: Screeners, conn: Connection, actor: str, name: str, country: str | None, schema: str | None
) -> ScreeningResult:
    """An officer's screening of one name against the lists in force, recorded; refused (409) while no list
    is loaded, since an answer against nothing would read as clear."""
    screener = screeners.current(conn)
    if not screener.watchlists:
        raise Conflict(
            "no watchlist is loaded: load one (`gesher watchlist load`, POST /admin/v1/watchlists)"
        )
    result = screener.screen(name, schema=schema, country=country)
    record(conn, actor, [NamesScreening("query", result.outcome, (result,))])
    return result


def record(conn: Connection, actor: str, screenings: Iterable[NamesScreening]) -> None:
    """Every result, with the list versions used (append-only), each also a ledger entry."""
    screenings = list(screenings)
    at = now_micros()
    rows: list[dict[str, object]] = [
        {
            "at": at,
            "actor": actor,
            "subject": s.subject,
            "query": r.query[:300],
            "country": r.country,
            "outcome": r.outcome,
            "lists": r.list_versions,
            "result": r.as_json(),
        }
        for s in screenings
        for r in s.results
    ]
    records.add_screenings(conn, rows)
    moment = ledger.now()
    ledger.append(
        conn,
        *(
            make(
                Kind.SCREENING,
                moment,
                actor,
                subject=s.subject,
                result=r.outcome,
                list_version=_lists(r.list_versions),
            )
            for s in screenings
            for r in s.results
        ),
    )


def _lists(versions: dict[str, str]) -> str:
    """The list versions a result was screened against, as the ledger records them."""
    return ", ".join(f"{name} {version}" for name, version in sorted(versions.items())) or "no lists"
