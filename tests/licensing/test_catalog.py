"""Classification over realistic items (reference/export_control.md A.1, 2.1): the tier, the Wassenaar and
EAR entries, the carve-outs taken, and the reasons given."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.errors import InvalidRequest
from gesher.licensing.catalog import (
    IP_SURVEILLANCE_CRITERIA,
    RULES,
    Capability,
    CarveOut,
    Category,
    GesherTier,
    IntrusionPurpose,
    ItemForm,
    classify,
    rule_explanations,
)
from tests.licensing.helpers import EDR, EXPLOIT_PLATFORM, INTRUSION

D, G, OP, C = (
    IntrusionPurpose.DELIVER,
    IntrusionPurpose.GENERATE,
    IntrusionPurpose.OPERATE,
    IntrusionPurpose.COMMUNICATE,
)
IP_ALL = dict.fromkeys(IP_SURVEILLANCE_CRITERIA, True)


def item(name: str, category: Category, **declared: object) -> Capability:
    return Capability(name, "Some Vendor", f"{name} (test item)", category, **declared)


SPYWARE = item(
    "Kite mobile spyware",
    Category.SPYWARE,
    purposes=frozenset({OP, C}),
    covert_surveillance_of_natural_persons=True,
    **INTRUSION,
)
PENTEST = item(
    "Lancer red-team framework",
    Category.PENTEST_FRAMEWORK,
    purposes=frozenset({G, D}),
    extracts_or_modifies_data=True,
    modifies_execution_path=True,  # its payloads are plain: they neither evade monitoring nor defeat defences
)
DISCLOSURE = item(
    "Lantern PoC builder",
    Category.VULNERABILITY_RESEARCH,
    purposes=frozenset({G}),
    carve_outs=frozenset({CarveOut.VULNERABILITY_DISCLOSURE}),
    **INTRUSION,
)
IP_SURVEILLANCE = item(
    "Backbone lawful-intercept probe",
    Category.IP_SURVEILLANCE,
    forms=frozenset({ItemForm.SYSTEM, ItemForm.SOFTWARE}),
    **IP_ALL,
)

FEED = item("Open threat feed", Category.THREAT_INTEL_FEED, publicly_available=True)
VPN = item("VPN gateway", Category.DEFENSIVE_TOOL, publicly_available=True, mass_market_crypto=True)
CHAIN = item("Chain-7 iOS exploit chain", Category.EXPLOIT, **INTRUSION)
UNLOCKER = item(
    "Phone unlocker",
    Category.FORENSIC_EXTRACTION,
    defeats_countermeasures=True,
    extracts_or_modifies_data=True,
)
SINKHOLE = item(
    "Sinkhole kit",
    Category.DEFENSIVE_TOOL,
    purposes=frozenset({C}),
    carve_outs=frozenset({CarveOut.INCIDENT_RESPONSE}),
    **INTRUSION,
)
PATCHER = item(
    "Fleet patcher",
    Category.DEFENSIVE_TOOL,
    purposes=frozenset({D}),
    carve_outs=frozenset({CarveOut.BASIC_UPDATES}),
    **INTRUSION,
)
IMPLANT_UPDATER = dataclasses.replace(
    PATCHER, name="Implant updater", category=Category.INTRUSION_PLATFORM, updates_intrusion_tooling=True
)
UPDATE_APPLIANCE = dataclasses.replace(PATCHER, name="Update appliance", forms=frozenset({ItemForm.SYSTEM}))
COURSE = item(
    "Exploit-writing course",
    Category.VULNERABILITY_RESEARCH,
    forms=frozenset({ItemForm.TECHNOLOGY}),
    technology_for_developing_intrusion_software=True,
)
WRITE_UP = dataclasses.replace(
    COURSE, name="Disclosure write-up", carve_outs=frozenset({CarveOut.VULNERABILITY_DISCLOSURE})
)
EDR_CLAIM = dataclasses.replace(EDR, carve_outs=frozenset({CarveOut.INCIDENT_RESPONSE}))
NO_CLAIM = dataclasses.replace(DISCLOSURE, carve_outs=frozenset())
T = GesherTier
VD, IR, BU = CarveOut.VULNERABILITY_DISCLOSURE, CarveOut.INCIDENT_RESPONSE, CarveOut.BASIC_UPDATES

# (item, tier, WA codes, other codes present, carve-outs taken, rationale codes given)
CASES = [
    pytest.param(EDR, T.DEFENSIVE, set(), set(), (), {"CATEGORY", "TIER"}, id="EDR: defensive"),
    pytest.param(FEED, T.PUBLIC, set(), set(), (), {"CATEGORY"}, id="published feed: public"),
    pytest.param(VPN, T.DEFENSIVE, set(), set(), (), {"MASS_MARKET_CRYPTO"}, id="mass-market crypto"),
    pytest.param(PENTEST, T.DUAL_USE, set(), set(), (), {"NOT_INTRUSION_TOOLING"}, id="pentest framework"),
    pytest.param(
        EXPLOIT_PLATFORM,
        T.OFFENSIVE,
        {"4.A.5", "4.D.4"},
        {"4A005", "4D004"},
        (),
        {"INTRUSION_TOOLING"},
        id="exploit delivery platform: 4.A.5 and 4.D.4",
    ),
    pytest.param(
        SPYWARE,
        T.OFFENSIVE,
        {"4.D.4"},
        {"4D004", "2021/821 Art. 5"},
        (),
        {"INTRUSION_TOOLING", "COVERT_SURVEILLANCE"},
        id="spyware: 4.D.4 and the EU catch-all",
    ),
    pytest.param(
        CHAIN, T.OFFENSIVE, set(), set(), (), {"INTRUSION_SOFTWARE"}, id="exploit chain: not listed"
    ),
    pytest.param(UNLOCKER, T.DUAL_USE, set(), set(), (), {"INTRUSION_SOFTWARE"}, id="forensic extraction"),
    # Wassenaar's 2017 notes on disclosure and incident response cover technology (4.E.1.a/c) only: tooling
    # for intrusion software stays under 4.D.4 and OFFENSIVE whatever purpose is claimed.
    pytest.param(
        DISCLOSURE,
        T.OFFENSIVE,
        {"4.D.4"},
        {"4D004"},
        (),
        {"INTRUSION_TOOLING", "CARVE_OUT_UNUSED"},
        id="disclosure tool: still 4.D.4",
    ),
    pytest.param(
        NO_CLAIM, T.OFFENSIVE, {"4.D.4"}, set(), (), {"INTRUSION_TOOLING"}, id="without the carve-out"
    ),
    pytest.param(
        SINKHOLE,
        T.OFFENSIVE,
        {"4.D.4"},
        {"4D004"},
        (),
        {"INTRUSION_TOOLING", "CARVE_OUT_UNUSED"},
        id="incident response tooling: still 4.D.4",
    ),
    pytest.param(PATCHER, T.DUAL_USE, set(), set(), (BU,), {"CARVED_OUT"}, id="basic updates"),
    pytest.param(
        IMPLANT_UPDATER,
        T.OFFENSIVE,
        {"4.D.4"},
        set(),
        (),
        {"INTRUSION_TOOLING", "CARVE_OUT_UNUSED"},
        id="updating intrusion software: the update note does not apply",
    ),
    pytest.param(
        UPDATE_APPLIANCE,
        T.OFFENSIVE,
        {"4.A.5"},
        set(),
        (),
        {"CARVE_OUT_UNUSED"},
        id="update note: 4.D.4 only",
    ),
    pytest.param(COURSE, T.OFFENSIVE, {"4.E.1.c"}, {"4E001.c"}, (), {"DEVELOPMENT_TECHNOLOGY"}, id="4.E.1.c"),
    pytest.param(WRITE_UP, T.DUAL_USE, set(), set(), (VD,), {"CARVED_OUT"}, id="disclosure technology"),
    pytest.param(
        IP_SURVEILLANCE, T.DUAL_USE, {"5.A.1.j"}, {"5A001.j"}, (), {"IP_SURVEILLANCE"}, id="5.A.1.j all of"
    ),
    pytest.param(EDR_CLAIM, T.DEFENSIVE, set(), set(), (), {"CARVE_OUT_UNUSED"}, id="carve-out with no use"),
]


@pytest.mark.parametrize(("capability", "tier", "wa", "others", "carved", "rationale"), CASES)
def test_classification(
    capability: Capability,
    tier: GesherTier,
    wa: set[str],
    others: set[str],
    carved: tuple[CarveOut, ...],
    rationale: set[str],
) -> None:
    result = classify(capability)
    assert result.tier == tier, result.rationale
    assert {c.code for c in result.controls if c.regime == "WA"} == wa
    assert others <= result.codes
    assert result.controlled == bool(wa)
    assert result.carve_outs == carved
    assert rationale <= {r.code for r in result.rationale}
    assert all(r.rule for r in result.rationale), "every reason names its rule"
    assert result.rationale[-1].code == "TIER"


@pytest.mark.parametrize("missing", IP_SURVEILLANCE_CRITERIA)
def test_ip_surveillance_missing_one_criterion_is_not_5a1j(missing: str) -> None:
    capability = dataclasses.replace(IP_SURVEILLANCE, **{missing: False})
    result = classify(capability)
    assert "5.A.1.j" not in result.codes
    assert result.predicates["meets_5.A.1.j"] is False
    reason = next(r for r in result.rationale if r.code == "NOT_IP_SURVEILLANCE")
    assert missing.replace("_", " ") in reason.text
    assert result.tier == GesherTier.DUAL_USE  # its category still makes it dual-use


def test_the_predicates_are_kept_for_audit() -> None:
    predicates = classify(SPYWARE).predicates
    assert predicates["meets_intrusion_software_definition"]
    assert predicates["covert_surveillance_of_natural_persons"]
    assert predicates["purpose:operate"] and not predicates["purpose:generate"]
    assert not predicates["carve_out:vulnerability-disclosure"]
    assert not classify(PENTEST).predicates["meets_intrusion_software_definition"]


def test_covert_surveillance_alone_makes_an_item_at_least_dual_use() -> None:
    tracker = item("Parental tracker", Category.DEFENSIVE_TOOL, covert_surveillance_of_natural_persons=True)
    result = classify(tracker)
    assert result.tier == GesherTier.DUAL_USE
    assert not result.controlled  # a catch-all is not a list entry
    assert "2021/821 Art. 5" in result.codes


def test_every_rule_explains_itself() -> None:
    explanations = rule_explanations()
    assert [name for name, _ in explanations] == [r.__name__ for r in RULES]
    assert all(len(text) > 40 for _, text in explanations)


def test_declarations_are_checked() -> None:
    with pytest.raises(InvalidRequest):
        item("", Category.EXPLOIT)
    with pytest.raises(InvalidRequest):
        item("Nothing", Category.EXPLOIT, forms=frozenset())
    with pytest.raises(ValueError):
        item("Odd", Category.EXPLOIT, carve_outs=frozenset({"marketing"}))


FLAGS = [
    "avoids_monitoring",
    "defeats_countermeasures",
    "extracts_or_modifies_data",
    "modifies_execution_path",
    "covert_surveillance_of_natural_persons",
    "technology_for_developing_intrusion_software",
    *IP_SURVEILLANCE_CRITERIA,
]


@st.composite
def capabilities(draw: st.DrawFn) -> Capability:
    flags = {f: draw(st.booleans()) for f in FLAGS}
    return item(
        "Drawn",
        draw(st.sampled_from(Category)),
        forms=frozenset(draw(st.sets(st.sampled_from(ItemForm), min_size=1))),
        purposes=frozenset(draw(st.sets(st.sampled_from(IntrusionPurpose)))),
        carve_outs=frozenset(draw(st.sets(st.sampled_from(CarveOut)))),
        updates_intrusion_tooling=draw(st.booleans()),
        **flags,
    )


@given(capabilities())
def test_properties_of_every_classification(capability: Capability) -> None:
    result = classify(capability)
    assert result == classify(capability), "deterministic"
    if capability.covert_surveillance_of_natural_persons or result.controlled:
        assert result.tier.rank >= GesherTier.DUAL_USE.rank
    if result.codes & {"4.A.5", "4.D.4", "4.E.1.c"}:
        assert result.tier == GesherTier.OFFENSIVE
    assert set(result.carve_outs) <= capability.carve_outs


@given(capabilities(), st.sampled_from(CarveOut))
def test_claiming_a_carve_out_never_adds_a_control(capability: Capability, carve_out: CarveOut) -> None:
    claimed = dataclasses.replace(capability, carve_outs=capability.carve_outs | {carve_out})
    assert classify(claimed).codes <= classify(capability).codes
    assert classify(claimed).tier.rank <= classify(capability).tier.rank
