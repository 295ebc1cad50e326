"""gesher's marking extension: a valid STIX 2.1 extension-definition, and a reader that agrees exactly
with the published JSON schema."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_instance

from gesher.errors import InvalidStix
from gesher.stix.gesher_marking import (
    GESHER_MARKING_EXTENSION_ID,
    GesherMarking,
    Tier,
    gesher_marking_of,
    published_objects,
    schema,
)
from gesher.stix.validate import object_error

VALIDATOR = jsonschema.Draft202012Validator(schema())


def marking(**content: object) -> dict[str, object]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--0f0a6d2e-4c4b-4f45-9a3e-8e3c1a9e6f10",
        "created": "2026-01-01T00:00:00.000Z",
        "extensions": {GESHER_MARKING_EXTENSION_ID: {"extension_type": "property-extension", **content}},
    }


@pytest.mark.parametrize("obj", [*published_objects(), marking(tier="sensitive")])
def test_the_published_objects_are_valid_stix(obj: dict[str, object]) -> None:
    assert object_error(obj) is None
    assert validate_instance(obj, ValidationOptions(version="2.1")).is_valid


def test_a_full_marking_reads_back() -> None:
    found = gesher_marking_of(
        marking(
            tier="offensive",
            releasable_to=["GB", "group:nato-cert"],
            recipients=["cert-uk"],
            embargo_until="2027-01-01T00:00:00Z",
            originator_controlled=True,
        )
    )
    assert found == GesherMarking(
        Tier.OFFENSIVE,
        releasable_to=frozenset({"GB", "group:nato-cert"}),
        recipients=frozenset({"cert-uk"}),
        embargo_until="2027-01-01T00:00:00Z",
        originator_controlled=True,
    )


def test_a_marking_definition_without_the_extension_is_not_a_gesher_marking() -> None:
    assert gesher_marking_of({"type": "marking-definition", "definition_type": "statement"}) is None


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ({"tier": "secret"}, "tier"),
        ({"tier": "Sensitive"}, "tier"),
        ({}, "tier"),
        ({"tier": "public", "releasable_to": []}, "non-empty"),
        ({"tier": "public", "releasable_to": ["GB", "GB"]}, "repeats"),
        ({"tier": "public", "releasable_to": ["gb"]}, "neither"),
        ({"tier": "public", "releasable_to": ["group:"]}, "neither"),
        ({"tier": "public", "embargo_until": "tomorrow"}, "embargo_until"),
        ({"tier": "public", "originator_controlled": "yes"}, "originator_controlled"),
        ({"tier": "public", "classification": "secret"}, "unknown property"),
    ],
)
def test_a_malformed_marking_is_refused_never_weakened(content: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidStix, match=fragment):
        gesher_marking_of(marking(**content))


VALUES = st.one_of(
    st.sampled_from(
        ["public", "defensive", "sensitive", "offensive", "Public", "secret", "", "GB", "group:x"]
    ),
    st.lists(st.sampled_from(["GB", "IL", "gb", "group:nato", "group:", "GRP", "group:A"]), max_size=3),
    st.booleans(),
    st.none(),
    st.integers(),
    st.sampled_from(["2027-01-01T00:00:00Z", "2027-01-01", "2027-02-30T00:00:00Z"]),
)


@given(
    st.dictionaries(
        st.sampled_from(["tier", "releasable_to", "embargo_until", "originator_controlled", "extra"]),
        VALUES,
        max_size=5,
    )
)
def test_the_reader_accepts_exactly_what_the_published_schema_accepts(content: dict[str, object]) -> None:
    ext = {"extension_type": "property-extension", **content}
    try:
        gesher_marking_of({"extensions": {GESHER_MARKING_EXTENSION_ID: ext}})
        accepted = True
    except InvalidStix:
        accepted = False
    schema_ok = VALIDATOR.is_valid(ext)
    # The schema's pattern cannot see the calendar (30 February); the reader can and is stricter there.
    if schema_ok and not accepted:
        assert ext.get("embargo_until") == "2027-02-30T00:00:00Z"
    else:
        assert accepted == schema_ok
