"""The screener's rules: weak aliases, partial delisting, confidential lists, countries, schemas, input
checks, thresholds, and what a result carries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from gesher.errors import ConfigurationError
from gesher.screening import (
    ALGORITHM,
    Screener,
    ScreeningInputError,
    Thresholds,
    Watchlist,
    WatchlistEntry,
    WatchlistFileError,
    load_watchlists,
    shipped_watchlist,
    shipped_watchlists,
)
from tests.screening.conftest import ON


def _features(screener: Screener, query: str, entry_id: str, **kwargs: object) -> list[str]:
    result = screener.screen(query, on=ON, **kwargs)  # type: ignore[arg-type]
    candidate = next(c for c in result.candidates if c.entry_id == entry_id)
    return [f.name for f in candidate.features]


def test_a_weak_alias_alone_is_review_at_most(shipped: Screener) -> None:
    result = shipped.screen("NSO", on=ON)
    assert result.outcome == "review"
    [nso] = result.candidates
    assert (nso.entry_id, nso.band, nso.score, nso.matched_name) == ("us-el-nso-group", "review", 0.69, "NSO")
    assert nso.features[0].name == "weak_alias_only"
    assert "capped_in_review" in [f.name for f in nso.features]


def test_a_weak_alias_confirms_a_strong_name(shipped: Screener) -> None:
    plain = shipped.screen("NSO Group", on=ON).candidates[0]
    confirmed = shipped.screen("NSO Group Technologies Ltd", on=ON).candidates[0]
    assert plain.band == confirmed.band == "match"
    names = [f.name for f in confirmed.features]
    assert "weak_alias_confirms" in names
    assert "related_not_listed" in names  # the fixture records it as NSO's not-listed legal name
    assert next(f.value for f in confirmed.features if f.name == "weak_alias_confirms") == 0.05


def test_partial_delisting_depends_on_the_screening_date(public_only: Screener) -> None:
    before = public_only.screen("Sara Hamou", on=date(2025, 6, 1))
    assert before.outcome == "match"
    assert before.candidates[0].listed
    after = public_only.screen("Sara Hamou", on=date(2026, 1, 1))
    assert after.outcome == "clear"
    [hamou] = after.candidates
    assert (hamou.entry_id, hamou.listed, hamou.band) == ("sara-hamou", False, "match")
    assert "removed 2025-12-30" in hamou.status
    dilian = public_only.screen("Tal Dilian", on=date(2026, 1, 1))
    assert dilian.outcome == "match"
    assert dilian.candidates[0].listed


def test_not_yet_listed_is_not_a_hit(public_only: Screener) -> None:
    result = public_only.screen("Intellexa S.A.", on=date(2023, 1, 1))
    assert result.outcome == "clear"
    assert result.candidates and not any(c.listed for c in result.candidates)
    assert "first listed 2023-07-18" in result.candidates[0].status


def test_with_a_confidential_list_no_hit_is_unknown_never_clear(
    shipped: Screener, public_only: Screener
) -> None:
    assert shipped.confidential_lists == ("us-dos-spyware-visa-212a3c",)
    assert shipped.screen("Jane Doe", on=ON).outcome == "unknown"
    assert public_only.screen("Jane Doe", on=ON).outcome == "clear"
    assert shipped.screen("Sara Hamou", on=ON).outcome == "unknown"  # only a delisted candidate
    assert shipped.screen("Kandiru", on=ON).outcome == "review"  # a public hit still says what it is
    assert shipped.screen("Jane Doe", on=ON).explanation_lines()[1].startswith("UNKNOWN")


def test_a_confidential_list_of_persons_says_nothing_about_an_organisation(shipped: Screener) -> None:
    # The State Department's visa restrictions name individuals: an organisation cannot be on them.
    assert shipped.screen("Allied National CERT", schema="Organization", on=ON).outcome == "clear"
    assert shipped.screen("Allied National CERT", schema="Company", on=ON).confidential_lists == ()
    assert shipped.screen("Jane Doe", schema="Person", on=ON).outcome == "unknown"
    assert shipped.screen("Allied National CERT", on=ON).outcome == "unknown"  # schema unknown: could be
    assert shipped.screen("Intelexa SA", schema="Company", on=ON).outcome == "match"


def test_what_a_confidential_list_covers_is_checked_on_load() -> None:
    doc = {"confidential_lists": [{"id": "secret", "covers": ["Vessel"]}], "published": "2026-01-01"}
    with pytest.raises(WatchlistFileError, match="covers"):
        load_watchlists(json.dumps(doc), "secret.json")


def test_a_confidential_list_alone_gives_unknown() -> None:
    confidential = [w for w in shipped_watchlists() if w.confidential]
    assert Screener(confidential).screen("Tal Dilian", on=ON).outcome == "unknown"


def test_country_mismatch_lowers_the_score(shipped: Screener) -> None:
    result = shipped.screen("Intellexa", country="ie", on=ON)
    assert result.country == "IE"
    scores = {c.entry_id: c.score for c in result.candidates}
    assert scores["intellexa-ltd"] == 1.0
    assert scores["intellexa-sa"] == 0.8
    assert "country_mismatch" in _features(shipped, "Intellexa", "intellexa-sa", country="IE")


def test_legal_forms_are_set_aside_but_a_different_one_costs_a_little(shipped: Screener) -> None:
    scores = {c.entry_id: c.score for c in shipped.screen("Intellexa SA", on=ON).candidates}
    assert scores == {"intellexa-sa": 1.0, "intellexa-ltd": 0.95}
    assert "legal_form_mismatch" in _features(shipped, "Intellexa SA", "intellexa-ltd")


def test_schema_narrows_the_candidates(shipped: Screener) -> None:
    assert shipped.screen("Tal Dilian", schema="Person", on=ON).outcome == "match"
    assert shipped.screen("Tal Dilian", schema="Company", on=ON).candidates == ()
    assert shipped.screen("Cytrox AD", schema="Person", on=ON).candidates == ()
    assert shipped.screen("Cytrox AD", schema="LegalEntity", on=ON).outcome == "match"


def test_hebrew_without_curated_aliases_is_matched_by_skeleton(plain: Screener, shipped: Screener) -> None:
    assert _features(plain, "טל דיליאן", "tal-dilian") == ["skeleton_match"]
    assert _features(shipped, "טל דיליאן", "tal-dilian") == ["name_literal_match"]
    assert plain.screen("טל דיליאן", on=ON).normalised == "tl dylyn"


def test_a_shared_given_name_alone_stays_below_review(shipped: Screener) -> None:
    assert shipped.screen("Tal Cohen", on=ON).candidates == ()


def test_a_lower_review_threshold_shows_the_one_part_penalty() -> None:
    """With review at 0.3 the screener cannot skip one-word person candidates (their bound is 0.43)."""
    screener = Screener(shipped_watchlists(), Thresholds(match=0.7, review=0.3))
    [dilian] = screener.screen("Tal Cohen", on=ON).candidates
    assert dilian.entry_id == "tal-dilian"
    assert dilian.band == "review"
    assert "person_one_part_only" in [f.name for f in dilian.features]
    assert dilian.score < 0.5


def test_an_organisation_needs_a_distinctive_shared_word(shipped: Screener) -> None:
    assert shipped.screen("Group Technologies Ltd", on=ON).candidates == ()
    features = shipped.screen("Positive Thinking Ltd", on=ON).candidates[0].features
    shared = next(f for f in features if f.name == "distinctive_tokens_shared")
    assert shared.explanation == "positive"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("", {}),
        ("   ", {}),
        ("\x00\x01\x02", {}),
        ("\u200f\u200e", {}),
        ("...,;", {}),
        ("a" * 301, {}),
        ("Tal Dilian", {"country": "Israel"}),
        ("Tal Dilian", {"country": "QQ"}),
        ("Tal Dilian", {"schema": "Vessel"}),
    ],
)
def test_names_that_cannot_be_screened_are_rejected(
    shipped: Screener, name: str, kwargs: dict[str, str]
) -> None:
    with pytest.raises(ScreeningInputError) as caught:
        shipped.screen(name, on=ON, **kwargs)  # type: ignore[arg-type]
    assert caught.value.status == 422


def test_a_300_character_name_is_screened(shipped: Screener) -> None:
    assert shipped.screen("Tal Dilian " + "x" * 289, on=ON).outcome in {"unknown", "review", "match"}


def test_thresholds_are_checked() -> None:
    with pytest.raises(ConfigurationError):
        Thresholds(match=0.5, review=0.7)
    with pytest.raises(ConfigurationError):
        Thresholds(match=1.2, review=0.5)
    with pytest.raises(ConfigurationError):
        Thresholds(match=0.7, review=0.7)  # no review band: a capped candidate would read as a match
    assert Thresholds().band(0.7) == "match"
    assert Thresholds().band(0.69) == "review"
    assert Thresholds().band(0.49) is None


def test_thresholds_decide_the_bands() -> None:
    strict = Screener(shipped_watchlists(), Thresholds(match=0.95, review=0.8))
    [dillian] = strict.screen("Tal Dillian", on=ON).candidates
    assert (dillian.band, dillian.score) == ("review", 0.8797)


def test_watchlist_names_must_be_unique() -> None:
    public = shipped_watchlist()
    with pytest.raises(ConfigurationError):
        Screener([public, public])


def test_the_result_is_json_and_names_its_lists_and_algorithm(shipped: Screener) -> None:
    result = shipped.screen("Tal Dillian", country="IL", on=ON)
    doc = json.loads(json.dumps(result.as_json()))
    assert doc["outcome"] == "match"
    assert doc["algorithm"] == ALGORITHM
    assert doc["list_versions"] == {
        "spyware-fixture": "2025-12-30+gesher.1",
        "us-dos-spyware-visa-212a3c": "2025-12-30+gesher.1",
    }
    assert doc["thresholds"] == {"match": 0.7, "review": 0.5}
    assert doc["on"] == "2026-01-05"
    top = doc["candidates"][0]
    assert top["entry_id"] == "tal-dilian"
    assert top["matched_name"] == "Tal Dilian"
    assert top["features"][0]["name"] == "token_similarity"
    assert "dillian~dilian" in top["features"][0]["explanation"]


def test_the_explanation_reads_as_text(shipped: Screener) -> None:
    lines = shipped.screen("NSO", on=ON).explanation_lines()
    assert lines[1].startswith("REVIEW")
    assert any("weak_alias_only" in line for line in lines)
    assert any("[spyware-fixture:us-el-nso-group]" in line for line in lines)


def test_an_undated_entry_is_listed() -> None:
    entry = WatchlistEntry(id="x", schema="Company", name="Acme Spyware Ltd")
    screener = Screener([Watchlist("national", "1", date(2026, 1, 1), entries=(entry,))])
    result = screener.screen("ACME SPYWARE", on=ON)
    assert result.outcome == "match"
    assert result.candidates[0].status == "listed (the list gives no date)"


def test_a_generic_only_listed_name_matches_only_literally() -> None:
    entry = WatchlistEntry(id="x", schema="Company", name="Global Solutions Ltd")
    screener = Screener([Watchlist("national", "1", date(2026, 1, 1), entries=(entry,))])
    assert screener.screen("Global Solutions Limited", on=ON).outcome == "match"
    assert screener.screen("Global Security Solutions", on=ON).outcome == "clear"


def test_the_screening_date_defaults_to_today_utc(shipped: Screener) -> None:
    before = datetime.now(UTC).date()
    on = shipped.screen("Tal Dilian").on
    assert on in {before, datetime.now(UTC).date()}
