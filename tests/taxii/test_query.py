from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.errors import InvalidRequest
from gesher.stix.timestamps import to_micros, version_key
from gesher.taxii.query import MAX_MATCH_VALUES, Versions, parse_query

ID = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def test_defaults_are_latest_version_and_no_filters() -> None:
    q = parse_query({})
    assert q.versions == Versions(latest=True) and q.ids == () and q.limit is None and q.added_after is None


def test_values_in_one_match_are_listed_and_deduplicated() -> None:
    q = parse_query({"match[type]": "indicator, malware,indicator", "match[id]": ID})
    assert q.types == ("indicator", "malware") and q.ids == (ID,)


def test_version_values_combine() -> None:
    q = parse_query({"match[version]": "first,2020-01-01T00:00:00Z"})
    assert q.versions == Versions(latest=False, first=True, keys=(version_key("2020-01-01T00:00:00.000Z"),))
    assert parse_query({"match[version]": "all"}).versions.every


def test_added_after_is_exact_to_the_microsecond() -> None:
    q = parse_query({"added_after": "2024-02-29T23:59:59.123456Z"})
    assert q.added_after == to_micros("2024-02-29T23:59:59.123456Z")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"limit": "0"}, "positive integer"),
        ({"limit": "-1"}, "positive integer"),
        ({"limit": "abc"}, "positive integer"),
        ({"limit": "9999999999"}, "positive integer"),
        ({"added_after": "yesterday"}, "not a timestamp"),
        ({"added_after": "2024-02-30T00:00:00Z"}, "not a timestamp"),
        ({"match[version]": "newest"}, "first, last, all"),
        ({"match[id]": "indicator--not-a-uuid"}, "STIX identifier"),
        ({"match[type]": "Indicator"}, "STIX type"),
        ({"match[type]": "indicator,,malware"}, "empty value"),
        ({"match[spec_version]": "two"}, "spec version"),
        ({"match[type]": ",".join(["indicator"] * (MAX_MATCH_VALUES + 1))}, "at most"),
        ({"next": ""}, "not a token"),
        ({"next": "x" * 2000}, "not a token"),
    ],
)
def test_hostile_values_get_precise_errors(params: dict[str, str], fragment: str) -> None:
    with pytest.raises(InvalidRequest, match=fragment):
        parse_query(params)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "limit",
                "added_after",
                "match[id]",
                "match[type]",
                "match[version]",
                "match[spec_version]",
                "next",
            ]
        ),
        st.text(max_size=300),
    )
)
def test_any_input_parses_or_raises_invalid_request(params: dict[str, str]) -> None:
    with contextlib.suppress(InvalidRequest):
        parse_query(params)


def test_filter_digest_changes_with_every_filter() -> None:
    variants = [
        {},
        {"match[type]": "indicator"},
        {"match[id]": ID},
        {"match[version]": "all"},
        {"added_after": "2020-01-01T00:00:00Z"},
        {"match[spec_version]": "2.1"},
    ]
    digests = {parse_query(v).filter_digest_source() for v in variants}
    assert len(digests) == len(variants)
    assert parse_query({"limit": "5"}).filter_digest_source() == parse_query({}).filter_digest_source()
