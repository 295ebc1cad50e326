"""A name prepared for comparison, as a person's name or as an organisation's.

- A **person's** name is a bag of name parts: word order carries no meaning ("Dilian Tal" is "Tal
  Dilian"), every part counts the same.
- An **organisation's** name keeps its word order for the literal comparison, sets its legal forms
  aside (compared separately), and weighs generic words ("group", "technologies") at a fifth of a
  distinctive word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from gesher.screening.names import is_abjad, normalise, skeleton_token
from gesher.screening.vocabulary import is_generic, split_legal_forms

Kind = Literal["person", "org"]
GENERIC_WEIGHT: Final = 0.2


@dataclass(frozen=True, slots=True)
class NameForm:
    """`words` are the comparable words (an organisation's without its legal forms), `weights` their
    weight, `key` the literal comparison key, `skeletons` the consonant skeleton of each word."""

    text: str
    kind: Kind
    normalised: str
    key: str
    words: tuple[str, ...]
    weights: tuple[float, ...]
    distinctive: frozenset[str]
    legal_forms: frozenset[str]
    skeletons: tuple[str, ...]
    abjad: bool
    weight: float  # the sum of `weights`

    @property
    def skeleton(self) -> str:
        return " ".join(s for s in self.skeletons if s)


@lru_cache(maxsize=8192)
def person_form(name: str) -> NameForm:
    """A person's name: all words, equal weights, compared in any order."""
    normalised = normalise(name)
    words = tuple(normalised.split())
    weights = (1.0,) * len(words)
    return NameForm(
        text=name,
        kind="person",
        normalised=normalised,
        key=" ".join(sorted(words)),
        words=words,
        weights=weights,
        distinctive=frozenset(words),
        legal_forms=frozenset(),
        skeletons=tuple(skeleton_token(w) for w in words),
        abjad=is_abjad(name),
        weight=math.fsum(weights),
    )


@lru_cache(maxsize=8192)
def org_form(name: str) -> NameForm:
    """An organisation's name: legal forms set aside, generic words weighed at GENERIC_WEIGHT."""
    normalised = normalise(name)
    words, legal_forms = split_legal_forms(tuple(normalised.split()))
    weights = tuple(GENERIC_WEIGHT if is_generic(w) else 1.0 for w in words)
    return NameForm(
        text=name,
        kind="org",
        normalised=normalised,
        key=" ".join(words),
        words=words,
        weights=weights,
        distinctive=frozenset(w for w in words if not is_generic(w)),
        legal_forms=legal_forms,
        skeletons=tuple(skeleton_token(w) for w in words),
        abjad=is_abjad(name),
        weight=math.fsum(weights),
    )


def name_form(name: str, kind: Kind) -> NameForm:
    """The form of `name` as a person's or an organisation's name."""
    return person_form(name) if kind == "person" else org_form(name)
