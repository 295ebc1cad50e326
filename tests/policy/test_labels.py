"""Access labels: markings reduce to one label, every marking can only tighten it, nothing fails open."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.errors import InvalidStix
from gesher.policy.labels import AccessLabel, access_label, definition_label, object_label
from gesher.stix import constants as c
from gesher.stix.gesher_marking import GESHER_MARKING_EXTENSION_ID, Tier
from gesher.stix.markings import Tlp, UnknownMarking
from gesher.stix.timestamps import timestamp_order_key


def gesher_definition(**content: object) -> dict[str, object]:
    return {
        "type": "marking-definition",
        "id": f"marking-definition--{uuid.uuid4()}",
        "extensions": {GESHER_MARKING_EXTENSION_ID: {"extension_type": "property-extension", **content}},
    }


def label(*definitions: dict[str, object], refs: tuple[str, ...] = ()) -> AccessLabel:
    held = {str(d["id"]): d for d in definitions}
    return access_label([*refs, *held], held.get)


def test_an_unmarked_object_leaves_tlp_and_tier_to_the_policy_defaults_and_says_why() -> None:
    found = label()
    assert (found.tlp, found.tier, found.releasable_to, found.originator_controlled) == (
        None,
        None,
        None,
        False,
    )
    assert sum("default" in r for r in found.reasons) == 2


def test_markings_combine_to_the_most_restrictive_reading() -> None:
    found = label(
        gesher_definition(
            tier="sensitive", releasable_to=["GB", "IL", "group:nato"], embargo_until="2027-01-01T00:00:00Z"
        ),
        gesher_definition(
            tier="offensive",
            releasable_to=["IL", "group:nato"],
            originator_controlled=True,
            embargo_until="2027-03-01T00:00:00.000Z",
        ),
        refs=(c.TLP2_GREEN, c.TLP2_RED),
    )
    assert found.tlp is Tlp.RED and found.tier is Tier.OFFENSIVE
    assert found.releasable_to == frozenset({"IL", "group:nato"})
    assert found.embargo_until == "2027-03-01T00:00:00.000Z" and found.originator_controlled
    assert any("highest" in r for r in found.reasons)


def test_labels_that_differ_only_in_explanation_are_the_same_label() -> None:
    one = label(gesher_definition(tier="public"))
    two = label(gesher_definition(tier="public"), gesher_definition(tier="public"))
    assert one.key() == two.key() and one.reasons != two.reasons


def test_an_unknown_or_malformed_marking_is_an_error_not_a_weaker_label() -> None:
    with pytest.raises(UnknownMarking):
        label(refs=(f"marking-definition--{uuid.uuid4()}",))
    with pytest.raises(InvalidStix):
        label(gesher_definition(tier="top-secret"))


GESHER = st.builds(
    lambda tier, to, emb, oc: gesher_definition(
        tier=tier,
        **({"releasable_to": to} if to else {}),
        **({"embargo_until": emb} if emb else {}),
        originator_controlled=oc,
    ),
    st.sampled_from(["public", "defensive", "sensitive", "offensive"]),
    st.one_of(
        st.none(),
        st.lists(
            st.sampled_from(["GB", "IL", "US", "group:nato", "group:isac"]),
            min_size=1,
            max_size=4,
            unique=True,
        ),
    ),
    st.one_of(st.none(), st.sampled_from(["2026-12-01T00:00:00Z", "2027-06-01T00:00:00.5Z"])),
    st.booleans(),
)


@given(
    st.lists(GESHER, max_size=4),
    GESHER,
    st.lists(st.sampled_from([c.TLP2_CLEAR, c.TLP2_GREEN, c.TLP1_RED]), max_size=2),
)
def test_adding_a_marking_never_loosens_a_label(
    markings: list[dict[str, object]], extra: dict[str, object], tlps: list[str]
) -> None:
    before = label(*markings, refs=tuple(tlps))
    after = label(*markings, extra, refs=tuple(tlps))
    assert after.tlp == before.tlp  # gesher markings do not touch TLP
    assert after.tier is not None
    assert before.tier is None or after.tier >= before.tier
    if before.releasable_to is not None:
        assert after.releasable_to is not None and after.releasable_to <= before.releasable_to
    if markings:
        assert before.originator_controlled <= after.originator_controlled
    if markings and before.embargo_until is not None:  # an embargo only ever moves later
        assert after.embargo_until is not None
        assert timestamp_order_key(after.embargo_until) >= timestamp_order_key(before.embargo_until)  # type: ignore[operator]


def test_a_label_survives_its_stored_json_form() -> None:
    found = label(
        gesher_definition(tier="sensitive", releasable_to=["IL"], recipients=["cert-uk"]), refs=(c.TLP2_RED,)
    )
    again = AccessLabel.from_json(found.to_json())
    assert again == found and again.digest() == found.digest()


def test_granular_markings_on_required_properties_mark_the_whole_object() -> None:
    secret = gesher_definition(tier="offensive")
    held = {str(secret["id"]): secret}
    required = frozenset({"type", "id", "pattern"})
    on_pattern = object_label([c.TLP2_GREEN], [(str(secret["id"]), ("pattern",))], required, held.get)
    assert on_pattern.tier is Tier.OFFENSIVE and on_pattern.redactions == ()
    on_description = object_label(
        [c.TLP2_GREEN], [(c.TLP2_RED, ("description",)), (str(secret["id"]), ("name",))], required, held.get
    )
    assert on_description.tlp is Tlp.GREEN and on_description.tier is None
    selectors = {sel: sub for sel, sub in on_description.redactions}
    assert selectors[("description",)].tlp is Tlp.RED
    assert selectors[("name",)].tier is Tier.OFFENSIVE and selectors[("name",)].tlp is Tlp.GREEN


def test_a_gesher_marking_definition_is_public_metadata_shown_only_to_whom_it_names() -> None:
    naming = gesher_definition(tier="offensive", recipients=["cert-uk"], releasable_to=["group:nato"])
    found = definition_label(naming, {}.get)
    assert (found.tlp, found.tier) == (Tlp.CLEAR, Tier.PUBLIC)
    assert found.recipients == frozenset({"cert-uk"}) and found.releasable_to == frozenset({"group:nato"})
    tlp_like = {"type": "marking-definition", "id": c.TLP2_GREEN}
    assert definition_label(tlp_like, {}.get).recipients is None
