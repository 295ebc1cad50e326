"""Normalisation, transliteration, consonant skeletons and legal forms, by example and by property."""

# Cyrillic, Greek and Hebrew names are the test data here:
# ruff: noqa: RUF001

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.screening import normalise, skeleton
from gesher.screening.forms import org_form, person_form
from gesher.screening.score import word_similarity
from gesher.screening.vocabulary import split_legal_forms


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("N.S.O. Group Technologies, Ltd.", "nso group technologies ltd"),
        ("N. S. O.", "nso"),
        ("Intellexa S.A.", "intellexa sa"),
        (
            "Computer Security Initiative Consultancy PTE. LTD.",
            "computer security initiative consultancy pte ltd",
        ),
        ("Тал Дилиан", "tal dilian"),
        ("Позитив Текнолоджиз", "pozitiv teknolodzhiz"),
        ("Ιντελλέξα", "intellexa"),
        ("Φέλιξ Μπίτζιος", "felix bitzios"),
        ("Αρτέμης Αρτεμίου", "artemis artemiou"),
        ("טל דיליאן", "tl dylyn"),
        ("\u200fטל\u200f דיליאן", "tl dylyn"),  # right-to-left marks vanish
        ("טַל", "tl"),  # vowel points vanish
        ("إنتليكسا", "ntlyks"),
        ("O'Brien", "obrien"),
        ("Müller & Söhne GmbH", "muller sohne gmbh"),
        ("ＮＳＯ Group", "nso group"),  # full-width
        ("Straße", "strasse"),
        ("Tal.Dilian", "tal dilian"),
        ("  Tal\tDilian\n", "tal dilian"),
        ("😀 Smith", "smith"),  # symbols are not words
        ("...", ""),
        ("\x00\x01", ""),
    ],
)
def test_normalise(name: str, normalised: str) -> None:
    assert normalise(name) == normalised


@pytest.mark.parametrize(
    ("name", "consonants"),
    [
        ("Tal Dilian", "tl dln"),
        ("טל דיליאן", "tl dln"),
        ("Тал Дилиан", "tl dln"),
        ("Tal Dillian", "tl dln"),
        ("Candiru", "kndr"),
        ("קנדירו", "kndr"),
        ("Intellexa", "ntlks"),
        ("إنتليكسا", "ntlks"),
        ("Felix Bitzios", "flks bts"),
        ("ביציוס", "bts"),
        ("Sara Hamou", "sr m"),
        ("שרה חמו", "sr m"),
    ],
)
def test_skeleton(name: str, consonants: str) -> None:
    assert skeleton(name) == consonants


@pytest.mark.parametrize(
    ("words", "kept", "forms"),
    [
        ("intellexa limited", "intellexa", {"ltd"}),
        ("intellexa sa", "intellexa", {"sa"}),
        ("cytrox holdings crt", "cytrox holdings", {"zrt"}),
        ("aktsionernoe obshchestvo pozitiv teknolodzhiz", "pozitiv teknolodzhiz", {"jsc"}),
        ("pozitiv teknolodzhiz ao", "pozitiv teknolodzhiz", {"jsc"}),
        (
            "computer security initiative consultancy pte ltd",
            "computer security initiative consultancy",
            {"pte", "ltd"},
        ),
        ("acme joint stock company", "acme", {"jsc"}),
        ("ltd", "ltd", set()),  # nothing else left: the name keeps its words
    ],
)
def test_legal_forms(words: str, kept: str, forms: set[str]) -> None:
    assert split_legal_forms(tuple(words.split())) == (tuple(kept.split()), frozenset(forms))


def test_generic_words_weigh_a_fifth_and_are_not_distinctive() -> None:
    form = org_form("NSO Group Technologies Ltd")
    assert form.words == ("nso", "group", "technologies")
    assert form.weights == (1.0, 0.2, 0.2)
    assert form.distinctive == frozenset({"nso"})
    assert form.legal_forms == frozenset({"ltd"})


def test_a_person_name_key_ignores_word_order() -> None:
    assert person_form("Dilian Tal").key == person_form("Tal Dilian").key == "dilian tal"


def test_word_similarity() -> None:
    assert word_similarity("dilian", "dilian") == 1.0
    assert word_similarity("dillian", "dilian") == pytest.approx(0.852, abs=1e-3)
    assert word_similarity("jean", "juan") == 0.0  # 0.75 < 0.8
    assert word_similarity("intellect", "intellexa") == 0.0
    assert word_similarity("tal", "tali") == 0.0  # short words must be equal


@given(st.text(max_size=60))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(st.text(max_size=60))
def test_normalised_names_are_lower_case_ascii_words(text: str) -> None:
    words = normalise(text).split(" ")
    assert all(w and w.isascii() and w.isalnum() and w == w.lower() for w in words if normalise(text))


@given(st.text(max_size=40))
def test_skeletons_are_consonants_only(text: str) -> None:
    assert not set(skeleton(text)) & set("aeiouyhw")
