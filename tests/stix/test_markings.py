"""TLP/PAP levels of marking references: aliases, most restrictive wins, default, never fail open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.stix import constants as c
from gesher.stix.markings import PAP_BY_MARKING, TLP_BY_MARKING, Pap, Tlp, UnknownMarking, marking_levels

ATTACK = Path(__file__).resolve().parents[3] / "shared" / "data" / "stix" / "attack" / "ics-attack.json"


@pytest.mark.parametrize(
    ("ref", "level"),
    [
        (c.TLP2_CLEAR, Tlp.CLEAR),
        (c.TLP1_WHITE, Tlp.CLEAR),
        (c.TLP1_GREEN, Tlp.GREEN),
        (c.TLP2_AMBER_STRICT, Tlp.AMBER_STRICT),
        (c.TLP1_RED, Tlp.RED),
        (c.TLP2_RED, Tlp.RED),
    ],
)
def test_tlp_2_and_its_1_0_aliases(ref: str, level: Tlp) -> None:
    assert marking_levels([ref], Tlp.AMBER).tlp is level


def test_unmarked_objects_get_the_default_and_say_so() -> None:
    levels = marking_levels([], Tlp.AMBER)
    assert levels.tlp is Tlp.AMBER and levels.pap is None
    assert "default TLP:AMBER" in levels.reasons[0]


def test_contradictory_markings_resolve_to_the_most_restrictive_and_explain_it() -> None:
    levels = marking_levels(
        [c.TLP2_GREEN, c.TLP1_RED, c.TLP2_AMBER_STRICT, c.PAP_GREEN, c.PAP_RED], Tlp.CLEAR
    )
    assert (levels.tlp, levels.pap) == (Tlp.RED, Pap.RED)
    assert "TLP:RED, wins" in levels.reasons[0] and "TLP:AMBER+STRICT" in levels.reasons[0]
    assert "PAP:GREEN, PAP:RED disagree" in levels.reasons[1]


def test_an_unknown_marking_definition_is_refused_not_ignored() -> None:
    unknown = "marking-definition--00000000-0000-4000-8000-000000000000"
    with pytest.raises(UnknownMarking, match="not known"):
        marking_levels([c.TLP2_CLEAR, unknown], Tlp.CLEAR)
    assert marking_levels([c.TLP2_CLEAR, unknown], Tlp.CLEAR, other_known={unknown}).tlp is Tlp.CLEAR


@given(
    st.lists(st.sampled_from(sorted(TLP_BY_MARKING) + sorted(PAP_BY_MARKING)), max_size=8),
    st.sampled_from(sorted(TLP_BY_MARKING)),
    st.sampled_from(list(Tlp)),
)
def test_the_level_is_never_below_any_marking_carried(refs: list[str], extra: str, default: Tlp) -> None:
    levels = marking_levels([*refs, extra], default)
    assert all(levels.tlp >= TLP_BY_MARKING[r] for r in [*refs, extra] if r in TLP_BY_MARKING)
    # once an object carries a TLP marking, adding another one can only tighten it
    if any(r in TLP_BY_MARKING for r in refs):
        assert levels.tlp >= marking_levels(refs, default).tlp


@pytest.mark.skipif(not ATTACK.exists(), reason="../shared/data is not beside this checkout")
def test_real_attack_data_references_only_markings_its_bundle_defines() -> None:
    bundle = json.loads(ATTACK.read_text())
    defined = {o["id"] for o in bundle["objects"] if o["type"] == "marking-definition"}
    for obj in bundle["objects"]:
        levels = marking_levels(obj.get("object_marking_refs", []), Tlp.AMBER, other_known=defined)
        assert levels.tlp is Tlp.AMBER  # MITRE marks with a copyright statement only, no TLP
