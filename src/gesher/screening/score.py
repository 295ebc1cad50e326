"""How similar a screened name is to one watchlist name: a score in [0, 1] from a few named features.

Like nomenklatura's logic-v1 (reference/export_control.md, B.1), the score is the **best main feature**
(value x weight) **plus qualifiers**:

Main features (weight):

- `name_literal_match` (1.0): the same words after normalisation (a person's in any order; an
  organisation's legal forms set aside).
- `token_similarity` (0.95): words aligned one to one, each pair scored with rapidfuzz's Indel similarity
  (squared; pairs under 0.75 do not align; words under 4 letters must be equal). Extra words of the query
  cost their full weight, extra words of the listed name a fifth (persons: middle names) or a half
  (organisations).
- `skeleton_match` (0.9): only when either name is in Hebrew or Arabic script: the same alignment over
  consonant skeletons, since vowels are not written.

Qualifiers (value):

- `legal_form_mismatch` (-0.05): both organisation names carry a legal form and they differ.
- `person_one_part_only` (-0.2): the query has two or more name parts and only one agrees ("Tal Cohen"
  vs "Tal Dilian").

Gates: an organisation's name only scores when a **distinctive** word is shared (or the names are
literally the same), so generic words alone ("Group Technologies Ltd") never hit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz.distance import Indel

from gesher.screening.forms import NameForm

LITERAL_WEIGHT: Final = 1.0
TOKEN_WEIGHT: Final = 0.95
SKELETON_WEIGHT: Final = 0.9
LEGAL_FORM_MISMATCH: Final = -0.05
ONE_PART_ONLY: Final = -0.2
WORD_CUTOFF: Final = 0.75  # Indel similarity under which two words are not the same word misspelt
MIN_FUZZY_WORD: Final = 4  # shorter words must be equal ("tal" is not "tag")
MIN_FUZZY_SKELETON: Final = 3
EXTRA_QUERY: Final = 1.0
EXTRA_ENTRY: Final = {"person": 0.2, "org": 0.5}


@lru_cache(maxsize=1 << 18)
def word_similarity(a: str, b: str) -> float:
    """1.0 for equal words; for words of 4+ letters the squared Indel similarity (rapidfuzz) when it is
    at least 0.75 ("dillian" ~ "dilian": 0.85); otherwise 0. Squaring keeps one wrong letter in a short
    word ("intellect" ~ "intellexa": 0.61) out of the match band."""
    if a == b:
        return 1.0
    if len(a) < MIN_FUZZY_WORD or len(b) < MIN_FUZZY_WORD:
        return 0.0
    similarity = Indel.normalized_similarity(a, b, score_cutoff=WORD_CUTOFF)
    return similarity * similarity


@lru_cache(maxsize=1 << 16)
def skeleton_similarity(a: str, b: str) -> float:
    """Like `word_similarity` over consonant skeletons, fuzzy from three consonants up."""
    if a == b:
        return 1.0 if a else 0.0
    if len(a) < MIN_FUZZY_SKELETON or len(b) < MIN_FUZZY_SKELETON:
        return 0.0
    similarity = Indel.normalized_similarity(a, b, score_cutoff=WORD_CUTOFF)
    return similarity * similarity


@dataclass(frozen=True, slots=True)
class Alignment:
    """Query word i aligned with listed word j at `similarity` for each of `pairs`; `value` in [0, 1]."""

    value: float
    pairs: tuple[tuple[int, int, float], ...]
    extra_query: tuple[int, ...]
    extra_entry: tuple[int, ...]


def align(
    query: Sequence[str],
    entry: Sequence[str],
    weights: tuple[Sequence[float], Sequence[float]],
    similar: Callable[[str, str], float],
    extra_entry: float,
) -> Alignment:
    """Greedy one-to-one alignment, best pairs first (ties broken by the words, so word order never
    matters); value = sum(similarity x pair weight) / (pair weights + unaligned weights)."""
    scored = [
        (-s, q, e, i, j)
        for i, q in enumerate(query)
        for j, e in enumerate(entry)
        if (s := similar(q, e)) > 0.0
    ]
    scored.sort()
    used_q: set[int] = set()
    used_e: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for negative, _, _, i, j in scored:
        if i not in used_q and j not in used_e:
            used_q.add(i)
            used_e.add(j)
            pairs.append((i, j, -negative))
    wq, we = weights
    extra_q = tuple(i for i in range(len(query)) if i not in used_q)
    extra_e = tuple(j for j in range(len(entry)) if j not in used_e)
    numerator = math.fsum(s * (wq[i] + we[j]) for i, j, s in pairs)
    denominator = math.fsum(
        [*(wq[i] + we[j] for i, j, _ in pairs), *(wq[i] * EXTRA_QUERY for i in extra_q)]
        + [we[j] * extra_entry for j in extra_e]
    )
    return Alignment(numerator / denominator if denominator else 0.0, tuple(pairs), extra_q, extra_e)


@dataclass(frozen=True, slots=True)
class NameMatch:
    """The comparison of the query with one listed name: the main feature that counted (`main`, worth
    `base`), the alignments behind it, the qualifiers, and the resulting `score`."""

    query: NameForm
    name: NameForm
    main: str
    base: float
    tokens: Alignment
    skeleton: Alignment | None
    shared_distinctive: tuple[str, ...]
    legal_form_mismatch: bool
    one_part_only: bool
    score: float

    @property
    def literal(self) -> bool:
        return self.main == "name_literal_match"

    @property
    def partial_name(self) -> bool:
        """A one-word query against a person's name of several words ("Dilian"): review at most."""
        return self.name.kind == "person" and len(self.query.words) == 1 and len(self.name.words) > 1


def _skeleton_alignment(query: NameForm, name: NameForm, skeletons: bool) -> Alignment | None:
    if not skeletons:
        return None
    weights = (query.weights, name.weights)
    return align(query.skeletons, name.skeletons, weights, skeleton_similarity, EXTRA_ENTRY[name.kind])


def _main(query: NameForm, tokens: Alignment, skeleton: Alignment | None, literal: bool) -> tuple[str, float]:
    options = [("token_similarity", TOKEN_WEIGHT * tokens.value)]
    if skeleton is not None:
        options.append(("skeleton_match", SKELETON_WEIGHT * skeleton.value))
    if literal:
        options.append(("name_literal_match", LITERAL_WEIGHT))
    return max(options, key=lambda option: option[1])


def _shared_distinctive(query: NameForm, name: NameForm, counted: Alignment, literal: bool) -> set[str]:
    if literal:
        return set(query.distinctive)
    return {
        query.words[i]
        for i, j, _ in counted.pairs
        if query.words[i] in query.distinctive and name.words[j] in name.distinctive
    }


def compare(query: NameForm, name: NameForm, skeletons: bool | None = None) -> NameMatch:
    """Score the query against one listed name of the same kind (person or organisation). Skeletons are
    compared when `skeletons` is true; by default when the query is in Hebrew or Arabic script (the
    matcher also asks for it when every name of an entry is, so a Latin query can find it, but not
    otherwise: a Latin query has the entry's Latin names to compare with, and skeletons are lossy)."""
    literal = bool(query.key) and query.key == name.key
    tokens = align(
        query.words, name.words, (query.weights, name.weights), word_similarity, EXTRA_ENTRY[name.kind]
    )
    skeleton = _skeleton_alignment(query, name, query.abjad if skeletons is None else skeletons)
    main, base = _main(query, tokens, skeleton, literal)
    counted = skeleton if main == "skeleton_match" and skeleton is not None else tokens
    aligned = len(query.words) if literal else len(counted.pairs)
    shared = tuple(sorted(_shared_distinctive(query, name, counted, literal)))
    gated = name.kind == "org" and not literal and not shared
    legal = (
        name.kind == "org"
        and bool(query.legal_forms and name.legal_forms)
        and not (query.legal_forms & name.legal_forms)
    )
    one_part = name.kind == "person" and len(query.words) > 1 and len(name.words) > 1 and aligned < 2
    score = 0.0 if gated else base + LEGAL_FORM_MISMATCH * legal + ONE_PART_ONLY * one_part
    return NameMatch(
        query, name, main, base, tokens, skeleton, shared, legal, one_part, max(0.0, min(1.0, score))
    )


def same_name(query: NameForm, name: NameForm) -> bool:
    """The literal test used for weak aliases: the same key, or (with Hebrew or Arabic script on either
    side) the same consonant skeleton."""
    if query.key == name.key:
        return bool(query.key)
    return (query.abjad or name.abjad) and bool(query.skeleton) and query.skeleton == name.skeleton
