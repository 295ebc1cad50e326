"""Properties of screening (hypothesis): invariance to word order (persons), case and punctuation;
scores in [0, 1]; adding a watchlist never lowers an existing candidate's score; the index's pruning of
one-word person candidates loses nothing."""

from __future__ import annotations

import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from gesher.screening import Screener, ScreeningResult, Watchlist, WatchlistEntry, shipped_watchlists
from gesher.screening.evaluate import score_entry
from gesher.screening.forms import person_form
from gesher.screening.score import ONE_WORD_PERSON_BOUND
from tests.screening.conftest import ON

SHIPPED = Screener(shipped_watchlists())
LISTED_WORDS = sorted(
    {w for wl in shipped_watchlists() for e in wl.entries for n in e.names() for w in n.split()}
)
WORDS = st.one_of(
    st.sampled_from(LISTED_WORDS),
    st.sampled_from(["Tal", "Cohen", "Group", "Ltd", "Maria", "David", "Technologies", "Karaoly", "Dillian"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9),
)
NAMES = st.lists(WORDS, min_size=1, max_size=4)


def _scores(result: ScreeningResult) -> dict[tuple[str, str], float]:
    return {(c.list_name, c.entry_id): c.score for c in result.candidates}


def _same(a: ScreeningResult, b: ScreeningResult) -> bool:
    return a.outcome == b.outcome and _scores(a) == _scores(b)


@given(NAMES, st.randoms(use_true_random=False))
def test_person_screening_ignores_word_order(words: list[str], rng: random.Random) -> None:
    shuffled = list(words)
    rng.shuffle(shuffled)
    first = SHIPPED.screen(" ".join(words), schema="Person", on=ON)
    second = SHIPPED.screen(" ".join(shuffled), schema="Person", on=ON)
    assert _same(first, second)


@given(NAMES, st.sampled_from([str.upper, str.lower, str.title, str.swapcase]))
def test_screening_ignores_case(words: list[str], case: object) -> None:
    name = " ".join(words)
    assert _same(SHIPPED.screen(name, on=ON), SHIPPED.screen(case(name), on=ON))  # type: ignore[operator]


@given(NAMES, st.sampled_from([", ", " - ", "; ", " / ", " & ", ".  "]), st.sampled_from(["", ".", ",", "!"]))
def test_screening_ignores_punctuation(words: list[str], separator: str, end: str) -> None:
    plain = " ".join(words)
    punctuated = f'"{separator.join(words)}{end}"'
    assert _same(SHIPPED.screen(plain, on=ON), SHIPPED.screen(punctuated, on=ON))


@given(st.text(min_size=1, max_size=80))
def test_scores_are_between_0_and_1(name: str) -> None:
    try:
        result = SHIPPED.screen(name, on=ON)
    except Exception as error:  # only the documented rejection is allowed
        assert type(error).__name__ == "ScreeningInputError"
        return
    assert all(0.0 <= c.score <= 1.0 for c in result.candidates)
    assert result.outcome in {"match", "review", "clear", "unknown"}


def _entries(names: list[tuple[bool, str]]) -> tuple[WatchlistEntry, ...]:
    return tuple(
        WatchlistEntry(id=f"e{i}", schema="Person" if person else "Company", name=name)
        for i, (person, name) in enumerate(names)
    )


EXTRA_NAMES = st.lists(st.tuples(st.booleans(), NAMES.map(" ".join)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(EXTRA_NAMES, NAMES.map(" ".join))
def test_adding_a_watchlist_never_lowers_a_candidates_score(
    extra: list[tuple[bool, str]], query: str
) -> None:
    more = Watchlist("extra", "1", date(2026, 1, 1), entries=_entries(extra))
    before = _scores(SHIPPED.screen(query, on=ON))
    after = _scores(Screener([*shipped_watchlists(), more]).screen(query, on=ON))
    assert all(after.get(key, -1.0) >= score for key, score in before.items())


@settings(max_examples=60, deadline=None)
@given(EXTRA_NAMES, NAMES.map(" ".join))
def test_pruned_person_candidates_could_not_reach_review(extra: list[tuple[bool, str]], query: str) -> None:
    screener = Screener([Watchlist("extra", "1", date(2026, 1, 1), entries=_entries(extra))])
    index = screener._index
    form = person_form(query)
    kept = {id(e) for e in index.candidates(form, True)}
    for indexed in index.candidates(form, False):
        if id(indexed) not in kept:
            result = score_entry(form, indexed, None, 0.69)
            assert result.score <= ONE_WORD_PERSON_BOUND + 1e-9
