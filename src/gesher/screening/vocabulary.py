"""Words of organisation names that do not tell one organisation from another.

- **Legal forms** ("Ltd", "Limited", "S.A.", "Zrt", "AO", "Aktsionernoe Obshchestvo", "GmbH" ...) are
  rewritten to one canonical form ("limited" -> "ltd", "aktsionernoe obshchestvo" -> "jsc", "crt" -> "zrt")
  and then set aside: "Intellexa S.A." and "Intellexa Limited" have the same name, "Intellexa", in two
  legal forms. A differing legal form only lowers a score a little.
- **Generic tokens** ("group", "technologies", "holdings", "software", "security" ...) count for little:
  an organisation hit needs at least one shared *distinctive* token, so "Group Technologies Ltd" never
  hits "NSO Group Technologies Ltd" (measured: every nomenklatura algorithm scored it >= 0.895).

Both lists apply to organisations only; person names keep every word.
"""

from __future__ import annotations

from typing import Final

# Canonical legal form -> the spellings (normalised, space-separated words) that mean it. Words that
# are also common name words are left out on purpose ("co" is kept: "Co." is nearly always the form).
_LEGAL_FORMS: Final[dict[str, tuple[str, ...]]] = {
    "ltd": ("ltd", "limited", "ltda", "limitada", "private limited", "pvt ltd", "pvt"),
    "pte": ("pte",),
    "plc": ("plc", "public limited company"),
    "llc": (
        "llc",
        "limited liability company",
        "ooo",
        "obshchestvo s ogranichennoi otvetstvennostiu",
        "obshchestvo s ogranichennoy otvetstvennostyu",
    ),
    "llp": ("llp", "limited liability partnership"),
    "lp": ("lp", "limited partnership"),
    "inc": ("inc", "incorporated"),
    "corp": ("corp", "corporation"),
    "co": ("co", "company"),
    "jsc": (
        "jsc",
        "ao",
        "oao",
        "ojsc",
        "joint stock company",
        "open joint stock company",
        "aktsionernoe obshchestvo",
        "aktsionernoye obshchestvo",
        "otkrytoe aktsionernoe obshchestvo",
    ),
    "pjsc": ("pjsc", "pao", "public joint stock company", "publichnoe aktsionernoe obshchestvo"),
    "cjsc": ("cjsc", "zao", "closed joint stock company", "zakrytoe aktsionernoe obshchestvo"),
    "sa": ("sa", "societe anonyme", "sociedad anonima", "sociedade anonima", "anonymi etaireia", "ae"),
    "ad": ("ad", "aktsionerno druzhestvo", "akcionersko drushtvo", "akcionarsko drustvo"),
    "zrt": ("zrt", "crt", "zartkoruen mukodo reszvenytarsasag"),
    "nyrt": ("nyrt", "nyilvanosan mukodo reszvenytarsasag"),
    "kft": ("kft", "korlatolt felelossegu tarsasag"),
    "gmbh": ("gmbh", "gesellschaft mit beschrankter haftung"),
    "ag": ("ag", "aktiengesellschaft"),
    "bv": ("bv", "besloten vennootschap"),
    "nv": ("nv", "naamloze vennootschap"),
    "srl": ("srl", "societa a responsabilita limitata", "sociedad de responsabilidad limitada"),
    "sarl": ("sarl", "societe a responsabilite limitee"),
    "spa": ("spa", "societa per azioni"),
    "sas": ("sas", "societe par actions simplifiee"),
    "oy": ("oy", "oyj"),
    "ab": ("ab",),
    "as": ("as", "asa", "aps"),
    "kk": ("kk", "kabushiki kaisha"),
    "sro": ("sro", "spol sro"),
    "doo": ("doo", "drustvo s ogranicenom odgovornoscu"),
    "fze": ("fze", "fzco", "fz llc", "fzc"),
}

LEGAL_FORM_PHRASES: Final[dict[tuple[str, ...], str]] = {
    tuple(spelling.split()): canonical
    for canonical, spellings in _LEGAL_FORMS.items()
    for spelling in spellings
}
_LONGEST_PHRASE: Final = max(len(phrase) for phrase in LEGAL_FORM_PHRASES)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


GENERIC_ORG_TOKENS: Final = _words(
    """
    group groups grp technologies technology tech techno holding holdings software systems system
    solutions solution security securities consulting consultancy consultants consultant international
    intl global worldwide services service companies enterprise enterprises industries industry trading
    partners partner management network networks communications communication telecom digital data
    cyber labs lab laboratory laboratories research development innovation innovations media associates
    agency national computer computers information info it ventures capital investments investment
    resources products product projects electronics engineering intelligence defense defence analytics
    integration integrated applications apps devices equipment manufacturing logistics operations
    advanced strategic business commercial corporate general united first new
    the and of for de del la le les du des und van der et y e en al
    """
)


def split_legal_forms(words: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """Split normalised words into (name words, canonical legal forms), longest phrase first:
    ("pozitiv", "teknolodzhiz", "ao") -> (("pozitiv", "teknolodzhiz"), {"jsc"}). A name made only of
    legal-form words ("Holdings Limited" keeps "holdings") keeps them as its words."""
    kept: list[str] = []
    forms: set[str] = set()
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST_PHRASE, len(words) - i), 0, -1):
            canonical = LEGAL_FORM_PHRASES.get(words[i : i + size])
            if canonical is not None:
                forms.add(canonical)
                i += size
                break
        else:
            kept.append(words[i])
            i += 1
    if not kept:
        return words, frozenset()
    return tuple(kept), frozenset(forms)


def is_generic(word: str) -> bool:
    """True for organisation-name words that do not distinguish one organisation from another."""
    return word in GENERIC_ORG_TOKENS
