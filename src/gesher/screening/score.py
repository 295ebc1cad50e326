"""How similar a screened name is to one watchlist name: a score in [0, 1] from a few named features.

Like nomenklatura's logic-v1 (reference/export_control.md, B.1), the score is the **best main feature**
(value x weight) **plus qualifiers**:

Main features (weight):

- `name_literal_match` (1.0): the same words after normalisation (a person's in any order; an
  organisation's legal forms set aside).
- `token_similarity` (0.95): words aligned one to one, each pair scored with rapidfuzz's Indel similarity
  (squared; pairs under 0.8 do not align; words under 4 letters must be equal). Extra words of the query
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
WORD_CUTOFF: Final = 0.8  # Indel similarity under which two words are not the same word misspelt
MIN_FUZZY_WORD: Final = 4  # shorter words must be equal ("tal" is not "tag")
MIN_FUZZY_SKELETON: Final = 3
EXTRA_QUERY: Final = 1.0
EXTRA_ENTRY: Final = {"person": 0.2, "org": 0.5}
# The best score of a person's name (of two words or more) when only one word of a query of two or
# more aligns: 2 / (2 + 1) of the token weight, minus the one-part penalty. The index may skip such names.
ONE_WORD_PERSON_BOUND: Final = TOKEN_WEIGHT * 2 / 3 + ONE_PART_ONLY


@lru_cache(maxsize=1 << 18)
def word_similarity(a: str, b: str) -> float:
    """1.0 for equal words; for words of 4+ letters the squared Indel similarity (rapidfuzz) when it is
    at least 0.8 ("dillian" ~ "dilian": 0.85); otherwise 0 ("jean" / "juan": 0.75, "intellect" /
    "intellexa": 0.78). Squaring keeps a wrong letter in a short word out of the match band."""
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
    """Query word i aligned with listed word j at similarity s, for each (i, j, s) of `pairs`; `value`
    in [0, 1]."""

    value: float
    pairs: tuple[tuple[int, int, float], ...]


NO_ALIGNMENT: Final = Alignment(0.0, ())


def _greedy(scored: list[tuple[float, str, str, int, int]]) -> tuple[tuple[int, int, float], ...]:
    """Best pairs first; ties broken by the words themselves, so the order of words never matters."""
    if len(scored) == 1:
        negative, _, _, i, j = scored[0]
        return ((i, j, -negative),)
    scored.sort()
    used_q: set[int] = set()
    used_e: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for negative, _, _, i, j in scored:
        if i not in used_q and j not in used_e:
            used_q.add(i)
            used_e.add(j)
            pairs.append((i, j, -negative))
    return tuple(pairs)


def align(
    query: NameForm,
    name: NameForm,
    keys: tuple[Sequence[str], Sequence[str]],
    similar: Callable[[str, str], float],
) -> Alignment:
    """One-to-one alignment of the query's words (or skeletons, `keys`) with the listed name's:
    value = sum(similarity x pair weight) / (pair weights + the weights of unaligned words, the listed
    name's at EXTRA_ENTRY of theirs)."""
    scored = [
        (-s, q, e, i, j)
        for i, q in enumerate(keys[0])
        for j, e in enumerate(keys[1])
        if (s := similar(q, e)) > 0.0
    ]
    if not scored:
        return NO_ALIGNMENT
    pairs = _greedy(scored)
    wq, we, extra = query.weights, name.weights, EXTRA_ENTRY[name.kind]
    numerator = sum(s * (wq[i] + we[j]) for i, j, s in pairs)
    paired = sum((1.0 - EXTRA_QUERY) * wq[i] + (1.0 - extra) * we[j] for i, j, _ in pairs)
    denominator = EXTRA_QUERY * query.weight + extra * name.weight + paired
    return Alignment(numerator / denominator, pairs)


@dataclass(frozen=True, slots=True)
class NameMatch:
    """The comparison of the query with one listed name: the main feature that counted (`main`, worth
    `base`), the alignment behind it (none for a literal match), the qualifiers, and the `score`."""

    query: NameForm
    name: NameForm
    main: str
    base: float
    alignment: Alignment | None
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


def _legal_form_mismatch(query: NameForm, name: NameForm) -> bool:
    return bool(query.legal_forms and name.legal_forms) and not (query.legal_forms & name.legal_forms)


def _literal(query: NameForm, name: NameForm) -> NameMatch:
    legal = name.kind == "org" and _legal_form_mismatch(query, name)
    score = LITERAL_WEIGHT + LEGAL_FORM_MISMATCH * legal
    shared = tuple(sorted(query.distinctive))
    return NameMatch(query, name, "name_literal_match", LITERAL_WEIGHT, None, shared, legal, False, score)


def compare(query: NameForm, name: NameForm, skeletons: bool | None = None) -> NameMatch:
    """Score the query against one listed name of the same kind (person or organisation). Skeletons are
    compared when `skeletons` is true; by default when the query is in Hebrew or Arabic script (the
    matcher also asks for it when every name of an entry is, so a Latin query can find it, but not
    otherwise: a Latin query has the entry's Latin names to compare with, and skeletons are lossy)."""
    if query.key and query.key == name.key:
        return _literal(query, name)
    main, alignment = "token_similarity", align(query, name, (query.words, name.words), word_similarity)
    base = TOKEN_WEIGHT * alignment.value
    if query.abjad if skeletons is None else skeletons:
        by_skeleton = align(query, name, (query.skeletons, name.skeletons), skeleton_similarity)
        if SKELETON_WEIGHT * by_skeleton.value > base:
            main, alignment, base = "skeleton_match", by_skeleton, SKELETON_WEIGHT * by_skeleton.value
    if name.kind == "person":
        one_part = len(query.words) > 1 and len(name.words) > 1 and len(alignment.pairs) < 2
        score = max(0.0, base + ONE_PART_ONLY * one_part)
        return NameMatch(query, name, main, base, alignment, (), False, one_part, score)
    shared = tuple(
        sorted(
            {
                query.words[i]
                for i, j, _ in alignment.pairs
                if query.words[i] in query.distinctive and name.words[j] in name.distinctive
            }
        )
    )
    legal = _legal_form_mismatch(query, name)
    score = max(0.0, base + LEGAL_FORM_MISMATCH * legal) if shared else 0.0
    return NameMatch(query, name, main, base, alignment, shared, legal, False, score)


def same_name(query: NameForm, name: NameForm) -> bool:
    """The literal test used for weak aliases: the same key, or (with Hebrew or Arabic script on either
    side) the same consonant skeleton."""
    if query.key == name.key:
        return bool(query.key)
    return (query.abjad or name.abjad) and bool(query.skeleton) and query.skeleton == name.skeleton
