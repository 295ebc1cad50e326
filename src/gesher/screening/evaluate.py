"""One watchlist entry against the query: its best-matching name, then the entry-level rules, and the
features that explain the score.

Entry-level rules, on top of the best name's score (score.py):

- **Weak aliases only confirm.** A query that *is* a weak alias ("NSO") and no strong name literally is
  a `weak_alias_only` hit: worth 0.8 (nomenklatura's weak-alias weight) and capped in the review band,
  whatever its strong names scored. A strong match whose query also contains a weak alias ("NSO Group
  Technologies Ltd") gets `weak_alias_confirms` +0.05.
- **Country** (`country_mismatch` -0.2): both the query and the entry have countries and they differ.
- **A single name part** against a person's fuller name ("Dilian") is capped in the review band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gesher.screening.forms import NameForm
from gesher.screening.index import IndexedEntry
from gesher.screening.score import (
    LEGAL_FORM_MISMATCH,
    ONE_PART_ONLY,
    Alignment,
    NameMatch,
    compare,
    same_name,
)

WEAK_ALIAS_WEIGHT: Final = 0.8
WEAK_ALIAS_CONFIRMS: Final = 0.05
COUNTRY_MISMATCH: Final = -0.2


@dataclass(frozen=True, slots=True)
class Feature:
    """One reason behind a score: `value` is what it added to the score (0.0 for information)."""

    name: str
    value: float
    explanation: str


@dataclass(frozen=True, slots=True)
class EntryScore:
    """The entry's score and what made it."""

    score: float
    best: NameMatch | None
    weak_only: NameForm | None
    weak_confirms: NameForm | None
    country_mismatch: bool
    capped: str | None


def _best_name(query: NameForm, indexed: IndexedEntry) -> NameMatch | None:
    """The entry's name or alias that scores best (compared by skeleton too for a Hebrew or Arabic
    query, or an entry whose names are all in those scripts)."""
    skeletons = query.abjad or indexed.abjad_only
    return max((compare(query, n, skeletons) for n in indexed.names), key=lambda m: m.score, default=None)


def _weak_aliases(
    query: NameForm, indexed: IndexedEntry, best: NameMatch | None
) -> tuple[NameForm | None, NameForm | None]:
    """(the weak alias the query *is*, unless a strong name is literally the query; the weak alias the
    query contains next to a strong match)."""
    weak_hit = next((w for w in indexed.weak if same_name(query, w)), None)
    if weak_hit is not None and not (best is not None and best.literal):
        return weak_hit, None
    if best is None or best.score <= 0:
        return None, None
    words = set(query.words)
    return None, next((w for w in indexed.weak if w.words and set(w.words) <= words), None)


def _cap_reason(weak_only: NameForm | None, best: NameMatch | None) -> str | None:
    if weak_only is not None:
        return "weak alias only"
    if best is not None and best.partial_name and best.score > 0:
        return "a single name part against a fuller name"
    return None


def score_entry(query: NameForm, indexed: IndexedEntry, country: str | None, cap: float) -> EntryScore:
    """The entry's score for the query (already in the entry's kind), `cap` being the highest score of
    the review band."""
    best = _best_name(query, indexed)
    weak_only, confirms = _weak_aliases(query, indexed, best)
    strong = best.score if best is not None else 0.0
    score = max(strong, WEAK_ALIAS_WEIGHT) if weak_only else strong + WEAK_ALIAS_CONFIRMS * bool(confirms)
    mismatch = score > 0 and bool(country and indexed.countries) and country not in indexed.countries
    score += COUNTRY_MISMATCH * mismatch
    capped = _cap_reason(weak_only, best)
    score = max(0.0, min(1.0, score, cap if capped else 1.0))
    return EntryScore(round(score, 4), best, weak_only, confirms, mismatch, capped)


def _pairs(match: NameMatch, alignment: Alignment, skeleton: bool) -> str:
    q = match.query.skeletons if skeleton else match.query.words
    n = match.name.skeletons if skeleton else match.name.words
    shown = [f"{q[i]}={n[j]}" if s == 1.0 else f"{q[i]}~{n[j]} {s:.2f}" for i, j, s in alignment.pairs]
    paired_q, paired_n = {i for i, _, _ in alignment.pairs}, {j for _, j, _ in alignment.pairs}
    extra_q = [w for i, w in enumerate(q) if w and i not in paired_q]
    extra_n = [w for j, w in enumerate(n) if w and j not in paired_n]
    text = f"aligned {', '.join(shown) or 'nothing'}"
    text += f"; only in the query: {', '.join(extra_q)}" if extra_q else ""
    return text + (f"; only in the listed name: {', '.join(extra_n)}" if extra_n else "")


def _main_feature(match: NameMatch) -> Feature:
    value = round(match.base, 4)
    if match.alignment is None:
        how = "in any order" if match.name.kind == "person" else "legal forms set aside"
        return Feature("name_literal_match", value, f"{match.query.key!r} = {match.name.key!r} ({how})")
    if match.main == "skeleton_match":
        why = "Hebrew/Arabic script writes no vowels, so consonant skeletons are compared"
        text = f"{match.query.skeleton!r} ~ {match.name.skeleton!r}: {_pairs(match, match.alignment, True)}"
        return Feature("skeleton_match", value, f"{text} ({why})")
    return Feature("token_similarity", value, _pairs(match, match.alignment, False))


def _name_features(match: NameMatch) -> list[Feature]:
    features = [_main_feature(match)]
    if match.name.kind == "org":
        shared = ", ".join(match.shared_distinctive)
        text = shared or "none: only generic words or legal forms are shared, which is never a hit"
        features.append(Feature("distinctive_tokens_shared", 0.0, text))
    if match.legal_form_mismatch:
        forms = f"{'/'.join(sorted(match.query.legal_forms))} vs {'/'.join(sorted(match.name.legal_forms))}"
        features.append(Feature("legal_form_mismatch", LEGAL_FORM_MISMATCH, f"legal forms differ: {forms}"))
    if match.one_part_only:
        features.append(Feature("person_one_part_only", ONE_PART_ONLY, "only one name part agrees"))
    return features


def features(
    result: EntryScore, indexed: IndexedEntry, query: NameForm, country: str | None
) -> list[Feature]:
    """The features of an entry's score, the one that counted first."""
    found: list[Feature] = []
    if result.weak_only is not None:
        alias = result.weak_only.text
        text = f"{query.text!r} is the weak alias {alias!r}: it confirms a match, never makes one"
        found.append(Feature("weak_alias_only", WEAK_ALIAS_WEIGHT, text))
    if result.best is not None and result.best.base > 0:
        found += _name_features(result.best)
    if result.weak_confirms is not None:
        text = f"the query also contains the weak alias {result.weak_confirms.text!r}"
        found.append(Feature("weak_alias_confirms", WEAK_ALIAS_CONFIRMS, text))
    if result.country_mismatch:
        text = f"query country {country}, listed {', '.join(sorted(indexed.countries))}"
        found.append(Feature("country_mismatch", COUNTRY_MISMATCH, text))
    if result.capped is not None:
        found.append(Feature("capped_in_review", 0.0, f"{result.capped}: at most the review band"))
    related = next((r for r in indexed.related if r.key == query.key), None)
    if related is not None:
        text = f"the list records {related.text!r} as related to this entry but not itself listed"
        found.append(Feature("related_not_listed", 0.0, text))
    return found
