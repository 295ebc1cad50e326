"""The inverted index that finds candidate entries for a name without scoring the whole list.

Every entry is posted under the words of its names, aliases and weak aliases (an organisation's
distinctive words only: "group" or "ltd" would retrieve half the list and can never make a hit alone),
and under the consonant skeletons of those words. A query retrieves every entry that shares a word, or
a skeleton of three consonants or more ("dillian" and "dilian" share "dln"); a query in Hebrew or Arabic
script looks up all its skeletons ("tl dylyn" -> "tl", "dln"). Retrieval is exhaustive over those keys (no
top-k cut), so scores never depend on what else is on the lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from gesher.screening.forms import Kind, NameForm, name_form
from gesher.screening.watchlist import Watchlist, WatchlistEntry

MIN_LATIN_SKELETON_KEY: Final = 3


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    """A watchlist entry with its names prepared once: `names` (name and aliases), `weak` (weak aliases),
    `related` (related-but-not-listed names, for information); `abjad_only` when every name is in
    Hebrew or Arabic script (then a Latin query is compared by skeleton too)."""

    watchlist: Watchlist
    entry: WatchlistEntry
    kind: Kind
    names: tuple[NameForm, ...]
    weak: tuple[NameForm, ...]
    related: tuple[NameForm, ...]
    countries: frozenset[str]
    abjad_only: bool


def _prepare(watchlist: Watchlist, entry: WatchlistEntry) -> IndexedEntry:
    kind: Kind = "person" if entry.is_person else "org"
    names = tuple(name_form(n, kind) for n in entry.names())
    return IndexedEntry(
        watchlist=watchlist,
        entry=entry,
        kind=kind,
        names=names,
        weak=tuple(name_form(n, kind) for n in entry.weak_aliases),
        related=tuple(name_form(n, kind) for n in entry.related_not_listed),
        countries=frozenset(entry.countries),
        abjad_only=all(n.abjad for n in names),
    )


def _keys(form: NameForm) -> Iterator[tuple[str, str]]:
    """(word, skeleton) for every word the entry is found by."""
    posted = form.distinctive or frozenset(form.words)
    for word, skeleton in zip(form.words, form.skeletons, strict=True):
        if word in posted:
            yield word, skeleton


class NameIndex:
    """Entries of several watchlists, found by word and by consonant skeleton."""

    def __init__(self, watchlists: Iterable[Watchlist]) -> None:
        self.entries: list[IndexedEntry] = []
        self._by_word: dict[str, list[int]] = defaultdict(list)
        self._by_skeleton: dict[str, list[int]] = defaultdict(list)
        for watchlist in watchlists:
            for entry in watchlist.entries:
                self._add(_prepare(watchlist, entry))

    def _add(self, indexed: IndexedEntry) -> None:
        number = len(self.entries)
        self.entries.append(indexed)
        words: set[str] = set()
        skeletons: set[str] = set()
        for form in (*indexed.names, *indexed.weak):
            for word, skeleton in _keys(form):
                words.add(word)
                skeletons.add(skeleton)
        for word in words:
            self._by_word[word].append(number)
        for skeleton in skeletons - {""}:
            self._by_skeleton[skeleton].append(number)

    def candidates(self, query: NameForm) -> list[IndexedEntry]:
        """Entries sharing a word or a skeleton key with the query, in index order."""
        found: set[int] = set()
        for word in query.normalised.split():
            found.update(self._by_word.get(word, ()))
        for skeleton in {s for s in query.skeletons if s}:
            if query.abjad or len(skeleton) >= MIN_LATIN_SKELETON_KEY:
                found.update(self._by_skeleton.get(skeleton, ()))
        return [self.entries[i] for i in sorted(found)]
