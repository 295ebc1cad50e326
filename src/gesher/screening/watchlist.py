"""Watchlists as data: lists of entities and persons, each with the dated actions that put it on a list
(or took it off).

An entry is *listed on a date* when, for at least one (authority, list), the latest action on or before
that date is `added` or `designated`. So a partial delisting is read correctly: Sara Hamou was designated
by OFAC on 2024-03-05 and removed on 2025-12-30, so she is listed on 2025-06-01 and not on 2026-01-01,
while Tal Dilian (designated the same day, never removed) stays listed. An entry without any action is
listed without a date (a list that only says "these names").

A confidential list (members not published, e.g. the US State Department's 2024 spyware visa
restrictions) is a `Watchlist` with `confidential=True` and usually no entries: its presence means that
"no hit" can never read as "clear".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal, get_args

from gesher.policy.countries import ISO_3166

Schema = Literal["Person", "Company", "Organization", "LegalEntity"]
ActionKind = Literal["added", "designated", "removed"]
SCHEMAS: Final[tuple[str, ...]] = get_args(Schema)
ACTIONS: Final[tuple[str, ...]] = get_args(ActionKind)
# ISO 3166-1 alpha-2, plus XK (Kosovo), which lists use although ISO has not assigned it.
COUNTRY_CODES: Final = ISO_3166 | {"XK"}


def country_code(value: str) -> str | None:
    """The upper-case ISO 3166-1 alpha-2 code, or None when `value` is not one ("il" -> "IL")."""
    code = value.strip().upper()
    return code if code in COUNTRY_CODES else None


@dataclass(frozen=True)
class ListAction:
    """One dated action of an authority on one of its lists, with its citation (e.g. "86 FR 60759")."""

    authority: str
    list: str
    action: ActionKind
    date: date
    citation: str | None = None
    reason: str | None = None

    @property
    def puts_on_list(self) -> bool:
        """True when the action puts the entry on the list (added, designated)."""
        return self.action != "removed"


@dataclass(frozen=True)
class WatchlistEntry:
    """A listed entity or person. `aliases` match like the name; `weak_aliases` (OFAC "weak AKAs", FtM
    `weakAlias`, e.g. "NSO") only confirm a match, never make one. `related_not_listed` names are
    recorded for information (affiliates that are *not* on the list)."""

    id: str
    schema: Schema
    name: str
    aliases: tuple[str, ...] = ()
    weak_aliases: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    identifiers: dict[str, str] = field(default_factory=dict)
    actions: tuple[ListAction, ...] = ()
    related_not_listed: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def is_person(self) -> bool:
        return self.schema == "Person"

    def names(self) -> tuple[str, ...]:
        """The name, then the aliases (the names that can match on their own)."""
        return (self.name, *self.aliases)

    def _latest(self, on: date) -> Iterator[ListAction]:
        """The latest action on or before `on` of every (authority, list) that had one by then."""
        latest: dict[tuple[str, str], ListAction] = {}
        for action in sorted(self.actions, key=lambda a: a.date):
            if action.date <= on:
                latest[(action.authority, action.list)] = action
        return iter(latest.values())

    def listed_on(self, on: date) -> bool:
        """Whether the entry is on at least one list on `on` (undated entries always are)."""
        return not self.actions or any(action.puts_on_list for action in self._latest(on))

    def status_on(self, on: date) -> str:
        """The listing status on `on`, in words, e.g. "listed: US OFAC SDN (designated 2024-03-05)"."""
        if not self.actions:
            return "listed (the list gives no date)"
        latest = list(self._latest(on))
        if not latest:
            first = min(a.date for a in self.actions)
            return f"not listed on {on.isoformat()}: first listed {first.isoformat()}"
        parts = [f"{a.authority} {a.list} ({a.action} {a.date.isoformat()})" for a in latest]
        state = "listed" if self.listed_on(on) else "not listed"
        return f"{state} on {on.isoformat()}: {'; '.join(parts)}"


@dataclass(frozen=True)
class Watchlist:
    """A named, versioned list as published on `published`. `source` says where it comes from (an
    authority, a file or a URL); a `confidential` list's members are not published."""

    name: str
    version: str
    published: date
    confidential: bool = False
    source: str = ""
    entries: tuple[WatchlistEntry, ...] = ()
    # The schemata a confidential list can hold (e.g. visa restrictions name persons only); empty: any.
    covers: tuple[str, ...] = ()

    def may_hold(self, schema: str | None) -> bool:
        """Whether a party of this schema could be on the list (an unknown schema could be anything)."""
        return not self.covers or schema is None or schema in self.covers or schema == "LegalEntity"
