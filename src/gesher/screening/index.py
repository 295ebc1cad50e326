"""The inverted index that finds candidate entries for a name without scoring the whole list.

Every entry is posted under the words of its names, aliases and weak aliases (an organisation's
distinctive words only: "group" or "ltd" would retrieve half the list and can never make a hit alone),
and under the consonant skeletons of those words. A query retrieves every entry that shares a word, or
a skeleton of three consonants or more ("dillian" and "dilian" share "dln"), or (persons) the first four
letters of a word of five or more; a query in Hebrew or Arabic script looks up all its skeletons
("tl dylyn" -> "tl", "dln"). Retrieval is exhaustive over those keys (no top-k cut), so a score never
depends on what else is on the lists. Like any index it can miss: a misspelling that shares no word,
skeleton or prefix with the listed name ("Pitzios" for "Bitzios") is not retrieved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import Indel

from gesher.screening.forms import Kind, NameForm, name_form
from gesher.screening.score import WORD_CUTOFF
from gesher.screening.watchlist import Watchlist, WatchlistEntry

MIN_LATIN_SKELETON_KEY: Final = 3
PREFIX: Final = 4  # person name words of 5+ letters are also found by their first 4 ("karaolis")


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
    words: frozenset[str]
    prunable: bool  # a person whose names all have several words, compared by words (see `candidates`)


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
        words=frozenset(w for n in names for w in n.words),
        prunable=kind == "person"
        and min(len(n.words) for n in names) > 1
        and not all(n.abjad for n in names),
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
        self._by_prefix: dict[str, list[int]] = defaultdict(list)
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
        if indexed.kind == "person":
            for prefix in {w[:PREFIX] for w in words if len(w) > PREFIX}:
                self._by_prefix[prefix].append(number)

    def _hits(self, query: NameForm) -> dict[int, int]:
        """Entry number -> bit mask of the query words that found it."""
        hits: dict[int, int] = {}
        for position, (word, skeleton) in enumerate(zip(query.words, query.skeletons, strict=True)):
            found = set(self._by_word.get(word, ()))
            if skeleton and (query.abjad or len(skeleton) >= MIN_LATIN_SKELETON_KEY):
                found.update(self._by_skeleton.get(skeleton, ()))
            if len(word) > PREFIX:
                found.update(self._by_prefix.get(word[:PREFIX], ()))
            bit = 1 << position
            for number in found:
                hits[number] = hits.get(number, 0) | bit
        return hits

    def candidates(self, query: NameForm, two_words_for_persons: bool) -> list[IndexedEntry]:
        """Entries sharing a word, a skeleton or (persons) a prefix with the query (`query` as a person's
        name: all its words), in index order.

        With `two_words_for_persons`, a person whose names all have several words, found by only one
        word of a query of several, is dropped when no other word of the query is similar to any of
        its words: with at most one word aligned such a name scores at most ONE_WORD_PERSON_BOUND
        (0.43), under the review band (the screener asks for this only when its review threshold is
        above that bound). It keeps a common given name ("David") from bringing every David on the
        list to the scorer, and loses nothing."""
        hits = self._hits(query)
        if two_words_for_persons and len(query.words) > 1 and not query.abjad:
            for number in self._one_word_at_most(query, hits):
                del hits[number]
        return [self.entries[number] for number in sorted(hits)]

    def _one_word_at_most(self, query: NameForm, hits: dict[int, int]) -> list[int]:
        """The person entries (names of several words each) found by one query word only, of which no
        other query word is similar (rapidfuzz Indel >= WORD_CUTOFF, a superset of what can align) to
        any word."""
        single = [
            number for number, mask in hits.items() if not mask & (mask - 1) and self.entries[number].prunable
        ]
        if not single:
            return []
        vocabulary = list(set().union(*(self.entries[n].words for n in single)))
        similar = [_similar(word, vocabulary) for word in query.words]
        beyond = [set().union(*(s for i, s in enumerate(similar) if i != p)) for p in range(len(similar))]
        return [n for n in single if self.entries[n].words.isdisjoint(beyond[hits[n].bit_length() - 1])]


def _similar(word: str, vocabulary: list[str]) -> set[str]:
    found = process.extract(
        word, vocabulary, scorer=Indel.normalized_similarity, score_cutoff=WORD_CUTOFF, limit=None
    )
    return {choice for choice, _, _ in found}
