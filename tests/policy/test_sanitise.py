"""Sanitisation profiles: what a partner receives is redacted as its profile says, stays valid STIX 2.1 or
is withheld whole, and `needs` never lets an object through unparsed that `apply` would have changed."""

from __future__ import annotations

import copy
import ipaddress
import uuid
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.policy.sanitise import (
    REDACTED,
    Profile,
    Redacted,
    Sanitiser,
    may_hold_address,
    remove_selectors,
)
from gesher.stix.validate import object_error

T = "2026-01-01T00:00:00.000Z"
EXCHANGE = f"identity--{uuid.uuid4()}"
ORIGIN = f"identity--{uuid.uuid4()}"
DOMAINS = frozenset({"corp.example.il", "Intra.Example.COM"})
INTERNAL = Sanitiser(Profile("internal", drop_internal_addresses=True, internal_domains=DOMAINS), EXCHANGE)

INTERNAL_V4 = [
    "10.0.0.0",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "192.168.255.255",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.0.1",
    "169.254.255.255",
]
PUBLIC_V4 = [
    "9.255.255.255",
    "11.0.0.1",
    "110.1.2.3",
    "172.15.255.255",
    "172.32.0.0",
    "192.167.255.255",
    "192.169.0.1",
    "169.253.255.255",
    "169.255.0.1",
    "126.255.255.255",
    "128.0.0.1",
    "100.64.0.1",
    "8.8.8.8",
]
INTERNAL_V6 = [
    "::1",
    "0:0:0:0:0:0:0:1",
    "fe80::1",
    "FE80::A",
    "fe80:0:0:0:0:0:0:1",
    "febf:ffff::1",
    "fc00::1",
    "fdff:1:2:3::4",
    "::ffff:10.0.0.1",
]
PUBLIC_V6 = ["2001:db8::1", "fec0::1", "fe7f::1", "fbff::1", "::", "::2", "::ffff:8.8.8.8"]
INTERNAL_NAMES = ["corp.example.il", "MAIL.Corp.Example.IL", "a.b.corp.example.il", "vpn.intra.example.com"]
PUBLIC_NAMES = [
    "notcorp.example.il",
    "corp-example.il",
    "example.il",
    "corp.example.il.evil.com",
    "intra.example.co",
]


def sdo(t: str, **properties: Any) -> dict[str, Any]:
    obj = {"type": t, "spec_version": "2.1", "id": f"{t}--{uuid.uuid4()}", "created": T, "modified": T}
    return {**obj, **properties}


def sco(t: str, value: str) -> dict[str, Any]:
    return {"type": t, "spec_version": "2.1", "id": f"{t}--{uuid.uuid4()}", "value": value}


def indicator(pattern: str, **properties: Any) -> dict[str, Any]:
    return sdo("indicator", pattern=pattern, pattern_type="stix", valid_from=T, **properties)


def marking(*selectors: str) -> dict[str, Any]:
    return {"selectors": list(selectors), "marking_ref": f"marking-definition--{uuid.uuid4()}"}


def valid(obj: dict[str, Any]) -> dict[str, Any]:
    assert object_error(obj) is None, object_error(obj)
    return obj


def run(sanitiser: Sanitiser, obj: dict[str, Any], denied: tuple[str, ...] = ()) -> Redacted:
    """`apply`, with what every call must hold: the input untouched, the output valid, and `needs` True
    on the stored bytes whenever something changed, also when told what ingest found (`may_hold_address`)."""
    valid(obj)
    before = copy.deepcopy(obj)
    result = sanitiser.apply(obj, denied)
    assert obj == before
    if result.obj is not None:
        valid(result.obj)
    if result.obj != obj and not denied:
        assert result.redactions
        stored = orjson.dumps(obj)
        assert sanitiser.needs(stored)
        assert sanitiser.needs(stored, address_hint=may_hold_address(stored))
        assert not sanitiser.needs_nothing(may_hold_address(stored))
    if result.obj is obj:
        assert result.redactions == ()
    return result


# --- protected originators -------------------------------------------------------------------------


def test_a_protected_originator_is_replaced_by_the_exchange_identity_in_created_by_ref_only() -> None:
    sanitiser = Sanitiser(Profile("p", protected_originators=frozenset({ORIGIN})), EXCHANGE)
    report = sdo("report", name="r", published=T, object_refs=[ORIGIN], created_by_ref=ORIGIN)
    result = run(sanitiser, report)
    assert result.obj == {**report, "created_by_ref": EXCHANGE}
    assert result.redactions == ("created_by_ref: protected originator replaced by the exchange identity",)
    sighting = sdo("sighting", sighting_of_ref=f"malware--{uuid.uuid4()}", where_sighted_refs=[ORIGIN])
    assert not sanitiser.needs(orjson.dumps(sighting))
    assert run(sanitiser, sighting).obj is sighting


def test_an_unprotected_originator_is_served_as_stored() -> None:
    sanitiser = Sanitiser(Profile("p", protected_originators=frozenset({ORIGIN})), EXCHANGE)
    other = indicator("[ipv4-addr:value = '10.0.0.1']", created_by_ref=f"identity--{uuid.uuid4()}")
    assert not sanitiser.needs(orjson.dumps(other))
    assert run(sanitiser, other) == Redacted(other, ())


def test_the_exchange_identity_must_be_an_identity_id() -> None:
    with pytest.raises(ValueError, match="exchange identity"):
        Sanitiser(Profile("p"), "organization--x")


def test_an_empty_profile_needs_nothing_and_changes_nothing() -> None:
    sanitiser = Sanitiser(Profile("empty"), EXCHANGE)
    obj = indicator("[ipv4-addr:value = '10.0.0.1']", description="from 10.0.0.1", created_by_ref=ORIGIN)
    assert not sanitiser.needs(orjson.dumps(obj))
    assert run(sanitiser, obj) == Redacted(obj, ())


# --- internal addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize("address", INTERNAL_V4 + PUBLIC_V4)
def test_internal_ipv4_ranges_and_their_edges(address: str) -> None:
    internal = address in INTERNAL_V4
    scos = run(INTERNAL, sco("ipv4-addr", address))
    assert (scos.obj is None) == internal
    pattern = run(INTERNAL, indicator(f"[ipv4-addr:value = '{address}']"))
    assert (pattern.obj is None) == internal
    text = run(INTERNAL, sdo("malware", is_family=False, description=f"Beacons to {address}, hourly."))
    assert text.obj is not None
    expected = f"Beacons to {REDACTED if internal else address}, hourly."
    assert text.obj["description"] == expected
    if internal:
        assert scos.redactions == ("value: internal address or domain: ipv4-addr withheld",)
        assert pattern.redactions == ("pattern: internal address or domain: indicator withheld",)
        assert text.redactions == (f"description: 1 internal address or domain replaced by {REDACTED}",)


@pytest.mark.parametrize("address", INTERNAL_V6 + PUBLIC_V6)
def test_internal_ipv6_ranges_and_their_edges(address: str) -> None:
    internal = address in INTERNAL_V6
    assert (run(INTERNAL, sco("ipv6-addr", address)).obj is None) == internal
    assert (run(INTERNAL, indicator(f"[ipv6-addr:value = '{address}']")).obj is None) == internal
    text = run(INTERNAL, sdo("campaign", name="c", description=f"Seen on {address} (zone %eth0)."))
    assert text.obj is not None
    assert text.obj["description"] == f"Seen on {REDACTED if internal else address} (zone %eth0)."


@pytest.mark.parametrize(("t", "value"), [("ipv4-addr", "10.0.0.0/8"), ("ipv6-addr", "fe80::/10")])
def test_an_internal_network_is_withheld(t: str, value: str) -> None:
    assert run(INTERNAL, sco(t, value)).obj is None


def test_a_network_is_judged_by_the_address_it_names() -> None:
    assert run(INTERNAL, sco("ipv4-addr", "8.0.0.0/6")).obj is not None


@pytest.mark.parametrize("name", INTERNAL_NAMES + PUBLIC_NAMES)
def test_internal_domains_and_their_subdomains_but_not_lookalikes(name: str) -> None:
    internal = name in INTERNAL_NAMES
    assert (run(INTERNAL, sco("domain-name", name)).obj is None) == internal
    assert (run(INTERNAL, sco("url", f"https://{name}/login?next=/")).obj is None) == internal
    assert (run(INTERNAL, sco("email-addr", f"dana.levi@{name}")).obj is None) == internal
    assert (run(INTERNAL, indicator(f"[domain-name:value = '{name}']")).obj is None) == internal
    text = run(
        INTERNAL, sdo("report", name="r", published=T, object_refs=[ORIGIN], description=f"See {name}.")
    )
    assert text.obj is not None
    assert text.obj["description"] == f"See {REDACTED if internal else name}."


@pytest.mark.parametrize(
    "value", ["http://10.0.0.5:8080/admin", "http://[fd00::1]/", "https://evil.example.org/r?to=192.168.1.1"]
)
def test_a_url_naming_an_internal_host_anywhere_is_withheld(value: str) -> None:
    assert run(INTERNAL, sco("url", value)).obj is None


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '203.0.113.5'] OR [ipv4-addr:value = '10.0.0.1']",
        "[ipv4-addr:value = '203.0.113.5' OR ipv4-addr:value = '172.20.1.1']",
        "[ipv4-addr:value = '203.0.113.5'] AND [domain-name:value = 'mail.corp.example.il']",
        "[ipv4-addr:value ISSUBSET '192.168.0.0/16']",
        "[domain-name:value LIKE '%.corp.example.il']",
        "[domain-name:value MATCHES '^.*\\\\.corp\\\\.example\\\\.il$']",
        "[ipv4-addr:value MATCHES '^10\\\\.0\\\\.0\\\\.1$']",
        "[email-addr:value = 'dana@intra.example.com']",
    ],
)
def test_an_indicator_whose_pattern_names_an_internal_address_is_withheld(pattern: str) -> None:
    assert run(INTERNAL, indicator(pattern)).obj is None


def test_a_pattern_of_another_language_is_withheld_too() -> None:
    snort = sdo(
        "indicator",
        pattern='alert tcp 10.0.0.0/8 any -> any 80 (msg:"x";)',
        pattern_type="snort",
        valid_from=T,
    )
    assert run(INTERNAL, snort).obj is None


def test_public_indicators_are_served_as_stored() -> None:
    for obj in (
        indicator("[ipv4-addr:value = '110.1.2.3'] OR [ipv4-addr:value = '8.8.8.8']"),
        indicator("[domain-name:value = 'notcorp.example.il']"),
        sco("ipv4-addr", "203.0.113.9"),
    ):
        assert run(INTERNAL, obj) == Redacted(obj, ())


def test_free_text_keeps_everything_but_the_internal_names() -> None:
    description = (
        "Beaconing from 10.1.2.3 to evil.example.org; relay mail.corp.example.il, contact "
        "dana.levi@corp.example.il, host fe80::1%eth0, regex 192\\.168\\.7\\.7; public 172.32.0.1 "
        "and notcorp.example.il."
    )
    note = sdo("note", content=description, abstract="on 127.0.0.1", object_refs=[ORIGIN])
    result = run(INTERNAL, note)
    assert result.obj is not None
    assert result.obj["content"] == (
        f"Beaconing from {REDACTED} to evil.example.org; relay {REDACTED}, contact {REDACTED}, host "
        f"{REDACTED}%eth0, regex {REDACTED}; public 172.32.0.1 and notcorp.example.il."
    )
    assert result.obj["abstract"] == f"on {REDACTED}"
    assert result.redactions == (
        f"abstract: 1 internal address or domain replaced by {REDACTED}",
        f"content: 5 internal addresses or domains replaced by {REDACTED}",
    )
    opinion = run(INTERNAL, sdo("opinion", opinion="agree", object_refs=[ORIGIN], explanation="seen on ::1"))
    assert opinion.obj is not None
    assert opinion.obj["explanation"] == f"seen on {REDACTED}"


@pytest.mark.parametrize("written", ["010.1.2.3", "172.016.0.1", "192.168.001.001", "169.254.0.01"])
def test_octets_with_leading_zeros_are_read_as_decimal(written: str) -> None:
    result = run(INTERNAL, sdo("tool", name="t", description=f"at {written}"))
    assert result.obj is not None
    assert result.obj["description"] == f"at {REDACTED}"
    assert written not in " ".join(result.redactions)  # explanations never repeat what they redact


def test_translations_of_free_text_are_redacted_too() -> None:
    contents = {"de": {"description": "Von 10.0.0.7 aus", "name": "Kampagne"}}
    lc = sdo("language-content", object_ref=f"campaign--{uuid.uuid4()}", contents=contents)
    result = run(INTERNAL, lc)
    assert result.obj is not None
    assert result.obj["contents"]["de"] == {"description": f"Von {REDACTED} aus", "name": "Kampagne"}


# --- dropped properties and free text --------------------------------------------------------------

VICTIM = Profile("victim", drop_properties=frozenset({"x_victim_name", "x_victim_sector"}))


def test_victim_properties_are_dropped_and_their_granular_markings_follow() -> None:
    obj = sdo(
        "incident",
        name="i",
        x_victim_name="Hospital",
        x_victim_sector="health",
        description="d",
        granular_markings=[marking("x_victim_name"), marking("x_victim_name", "description")],
    )
    result = run(Sanitiser(VICTIM, EXCHANGE), obj)
    assert result.obj is not None
    assert "x_victim_name" not in result.obj
    assert "x_victim_sector" not in result.obj
    assert result.obj["granular_markings"] == [{**obj["granular_markings"][1], "selectors": ["description"]}]
    assert result.redactions == ("x_victim_name: dropped (profile)", "x_victim_sector: dropped (profile)")


def test_an_object_without_them_is_served_as_stored() -> None:
    obj = sdo("incident", name="i", description="x_victim_name")
    sanitiser = Sanitiser(VICTIM, EXCHANGE)
    assert not sanitiser.needs(orjson.dumps(obj))
    assert run(sanitiser, obj) == Redacted(obj, ())


def test_dropping_a_required_property_withholds_the_object() -> None:
    sanitiser = Sanitiser(Profile("p", drop_properties=frozenset({"name"})), EXCHANGE)
    assert run(sanitiser, sdo("identity", name="Victim Ltd")).obj is None
    served = run(sanitiser, indicator("[ipv4-addr:value = '8.8.8.8']", name="n"))
    assert served.obj is not None
    assert "name" not in served.obj


def test_dropping_what_a_rule_needs_withholds_the_object() -> None:
    sanitiser = Sanitiser(Profile("p", drop_properties=frozenset({"country"})), EXCHANGE)
    result = run(sanitiser, sdo("location", country="IL"))
    assert result.obj is None
    assert "would not be valid STIX" in result.redactions[-1]


FREE = Sanitiser(Profile("free", drop_free_text=True), EXCHANGE)


def test_free_text_is_dropped_where_optional() -> None:
    report = sdo("report", name="r", published=T, object_refs=[ORIGIN], description="d")
    result = run(FREE, report)
    assert result.obj == {k: v for k, v in report.items() if k != "description"}
    assert result.redactions == ("description: dropped (free text)",)
    opinion = run(FREE, sdo("opinion", opinion="agree", object_refs=[ORIGIN], explanation="because"))
    assert opinion.obj is not None
    assert "explanation" not in opinion.obj


def test_required_free_text_withholds_the_object() -> None:
    result = run(FREE, sdo("note", content="c", abstract="a", object_refs=[ORIGIN]))
    assert result.obj is None
    assert result.redactions == ("content: required for note, cannot be dropped: withheld",)


def test_translations_of_dropped_properties_go_and_a_language_content_left_empty_is_withheld() -> None:
    target = f"report--{uuid.uuid4()}"
    mixed = sdo("language-content", object_ref=target, contents={"de": {"name": "N", "description": "D"}})
    result = run(FREE, mixed)
    assert result.obj is not None
    assert result.obj["contents"] == {"de": {"name": "N"}}
    only = sdo("language-content", object_ref=target, contents={"de": {"description": "D"}})
    assert run(FREE, only).obj is None


def test_the_steps_apply_in_order_and_each_is_explained() -> None:
    profile = Profile(
        "all",
        protected_originators=frozenset({ORIGIN}),
        drop_internal_addresses=True,
        drop_properties=frozenset({"x_victim_name"}),
        drop_free_text=True,
    )
    obj = sdo(
        "malware",
        is_family=False,
        created_by_ref=ORIGIN,
        description="10.0.0.1",
        x_victim_name="v",
        external_references=[{"source_name": "a", "url": "https://a.example/"}],
        granular_markings=[marking("external_references.[0].url")],
    )
    result = run(Sanitiser(profile, EXCHANGE), obj, ("external_references.[0].url",))
    assert result.obj == {
        k: obj[k] for k in ("type", "spec_version", "id", "created", "modified", "is_family")
    } | {"created_by_ref": EXCHANGE}
    assert result.redactions == (
        "created_by_ref: protected originator replaced by the exchange identity",
        f"description: 1 internal address or domain replaced by {REDACTED}",
        "x_victim_name: dropped (profile)",
        "description: dropped (free text)",
        "external_references.[0].url: removed (denied granular marking)",
    )


# --- granular-marking selectors --------------------------------------------------------------------


def attack_pattern() -> dict[str, Any]:
    refs = [
        {"source_name": f"s{i}", "url": f"https://r{i}.example/", "description": f"d{i}"} for i in range(4)
    ]
    phases = [{"kill_chain_name": f"k{i}", "phase_name": f"p{i}"} for i in range(2)]
    return valid(
        sdo(
            "attack-pattern",
            name="ap",
            description="d",
            external_references=refs,
            kill_chain_phases=phases,
            x_foo={"bar": "b", "baz": "z"},
            labels=["one", "two"],
        )
    )


def test_selectors_remove_properties_list_elements_and_dictionary_keys() -> None:
    obj = attack_pattern()
    before = copy.deepcopy(obj)
    out = remove_selectors(
        obj, ["description", "external_references.[1].url", "kill_chain_phases.[0]", "x_foo.bar"]
    )
    assert obj == before
    assert out is not None
    valid(out)
    assert "description" not in out
    assert out["external_references"][1] == {"source_name": "s1", "description": "d1"}
    assert out["kill_chain_phases"] == [{"kill_chain_name": "k1", "phase_name": "p1"}]
    assert out["x_foo"] == {"baz": "z"}


def test_several_indexes_in_one_list_are_resolved_before_anything_moves() -> None:
    obj = attack_pattern()
    obj["granular_markings"] = [marking("external_references.[3].url"), marking("external_references.[2]")]
    out = remove_selectors(obj, ["external_references.[2]", "external_references.[0]", "labels.[1]"])
    assert out is not None
    valid(out)
    assert [r["source_name"] for r in out["external_references"]] == ["s1", "s3"]
    assert out["labels"] == ["one"]
    # The marking on [3].url now selects [1].url; the one on [2] went with it.
    assert out["granular_markings"] == [
        {**obj["granular_markings"][0], "selectors": ["external_references.[1].url"]}
    ]


def test_what_a_removal_empties_or_breaks_goes_with_it() -> None:
    obj = attack_pattern()
    out = remove_selectors(
        obj,
        [
            "kill_chain_phases.[0]",
            "kill_chain_phases.[1].phase_name",
            "x_foo.bar",
            "x_foo.baz",
            "external_references.[0].source_name",
            "external_references.[1].url",
            "external_references.[1].description",
        ],
    )
    assert out is not None
    valid(out)
    assert "kill_chain_phases" not in out
    assert "x_foo" not in out
    assert [r["source_name"] for r in out["external_references"]] == ["s2", "s3"]
    assert remove_selectors(obj, ["labels.[0]", "labels.[1]"]) == {
        k: v for k, v in obj.items() if k != "labels"
    }


def test_the_last_selector_of_the_last_granular_marking_takes_the_property_with_it() -> None:
    obj = valid(sdo("tool", name="t", description="d", granular_markings=[marking("description")]))
    out = remove_selectors(obj, ["description"])
    assert out == {k: v for k, v in obj.items() if k not in ("description", "granular_markings")}


@pytest.mark.parametrize("selector", ["source_ref", "id", "type", "created", "relationship_type"])
def test_a_required_property_withholds_the_relationship(selector: str) -> None:
    rel = valid(
        sdo(
            "relationship",
            relationship_type="uses",
            source_ref=f"malware--{uuid.uuid4()}",
            target_ref=f"attack-pattern--{uuid.uuid4()}",
            description="d",
        )
    )
    assert remove_selectors(rel, [selector, "description"]) is None
    result = run(Sanitiser(Profile("p"), EXCHANGE), rel, (selector,))
    assert result.obj is None
    assert result.redactions == (f"{selector}: required for relationship, under a denied marking: withheld",)


def test_a_part_of_a_required_property_withholds_the_object() -> None:
    report = valid(sdo("report", name="r", published=T, object_refs=[ORIGIN, f"malware--{uuid.uuid4()}"]))
    assert remove_selectors(report, ["object_refs.[1]"]) is None


def test_selectors_that_do_not_resolve_are_ignored() -> None:
    obj = attack_pattern()
    out = remove_selectors(
        obj, ["x_nothing", "external_references.[9]", "x_foo.bar.baz", "labels.[0].x", "name.[0]"]
    )
    assert out == obj
    assert out is not obj


def test_denied_selectors_are_removed_by_apply_and_explained() -> None:
    obj = attack_pattern()
    obj["granular_markings"] = [marking("description", "external_references.[2].url")]
    result = run(
        Sanitiser(Profile("p"), EXCHANGE), obj, ("description", "external_references.[2].url", "x_no")
    )
    assert result.obj is not None
    assert "granular_markings" not in result.obj
    assert result.redactions == (
        "description: removed (denied granular marking)",
        "external_references.[2].url: removed (denied granular marking)",
    )


# --- needs -----------------------------------------------------------------------------------------


def test_needs_looks_for_each_profile_field() -> None:
    everything = Sanitiser(
        Profile(
            "all",
            protected_originators=frozenset({ORIGIN}),
            drop_internal_addresses=True,
            internal_domains=DOMAINS,
            drop_properties=frozenset({"x_victim_name"}),
            drop_free_text=True,
        ),
        EXCHANGE,
    )
    clean = indicator("[ipv4-addr:value = '203.0.113.1']", name="n", labels=["x"])
    assert not everything.needs(orjson.dumps(clean))
    for changed in (
        {**clean, "created_by_ref": ORIGIN},
        {**clean, "name": "Seen on 172.16.0.9"},
        {**clean, "name": "Seen on fd12:3456::1"},
        {**clean, "name": "Seen on HOST.INTRA.EXAMPLE.COM"},
        {**clean, "x_victim_name": "v"},
        {**clean, "description": "d"},
    ):
        assert everything.needs(orjson.dumps(changed))
    unicode_escaped = orjson.dumps(clean).replace(b"203.0.113.1", b"10\\u002e0.0.1")
    assert everything.needs(unicode_escaped)
    assert everything.needs(unicode_escaped, address_hint=may_hold_address(unicode_escaped))


def test_ingest_finds_which_versions_may_spell_an_address() -> None:
    assert may_hold_address(orjson.dumps({"name": "Seen on 10.1.2.3"}))
    assert may_hold_address(orjson.dumps({"name": "Seen on fe80::1"}))
    assert not may_hold_address(orjson.dumps(indicator("[ipv4-addr:value = '203.0.113.1']", name="n")))
    assert may_hold_address(b'{"name":"Seen on 10\\u002e1.2.3"}')  # escapes are looked at when served
    only_addresses = Sanitiser(Profile("addresses", drop_internal_addresses=True), EXCHANGE)
    internal = orjson.dumps({"name": "Seen on 10.1.2.3"})
    assert only_addresses.needs(internal) and not only_addresses.needs(internal, address_hint=False)
    assert only_addresses.needs_nothing(False) and not only_addresses.needs_nothing(True)
    with_originators = Sanitiser(Profile("both", frozenset({ORIGIN}), drop_internal_addresses=True), EXCHANGE)
    assert not with_originators.needs_nothing(False)
    assert Sanitiser(Profile("empty"), EXCHANGE).needs_nothing(True)


# --- properties ------------------------------------------------------------------------------------

V4_ADDRESSES = st.one_of(
    st.ip_addresses(v=4),
    *(st.ip_addresses(network=n) for n in ("10.0.0.0/8", "172.0.0.0/8", "192.168.0.0/15", "169.254.0.0/15")),
    st.sampled_from(INTERNAL_V4 + PUBLIC_V4).map(ipaddress.IPv4Address),
)
V6_ADDRESSES = st.one_of(
    st.ip_addresses(v=6),
    *(st.ip_addresses(network=n) for n in ("fe80::/9", "fc00::/6", "::/126", "::ffff:10.0.0.0/104")),
)
V4_NETWORKS = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
V4_NETWORKS += [ipaddress.IPv4Network(n) for n in ("127.0.0.0/8", "169.254.0.0/16")]
V6_NETWORKS = [ipaddress.IPv6Network(n) for n in ("::1/128", "fe80::/10", "fc00::/7")]


def internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    networks: list[Any] = V4_NETWORKS if address.version == 4 else V6_NETWORKS
    return any(address in network for network in networks)


def carriers(address: str, compressed: bool) -> list[dict[str, Any]]:
    kind = "ipv4-addr" if "." in address and ":" not in address else "ipv6-addr"
    objects = [
        indicator(f"[{kind}:value = '{address}']"),
        sdo("malware", is_family=False, description=f"C2 {address}."),
        sdo("note", content=f"{address}", object_refs=[ORIGIN]),
    ]
    if compressed:  # STIX wants the SCO value in its usual form
        objects.append(sco(kind, address))
    return objects


@given(V4_ADDRESSES | V6_ADDRESSES, st.booleans())
def test_needs_is_true_whenever_apply_changes_an_address_carrier(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, exploded: bool
) -> None:
    text = address.exploded if exploded and address.version == 6 else str(address)
    for obj in carriers(text, compressed=not exploded):
        result = run(INTERNAL, obj)  # checks needs() whenever something changed
        assert (result.obj is not obj) == internal(address)


TOKENS = (
    "10 172 16 31 192 168 127 169 254 0 1 255 . : :: \\ fe80 FD00 ffff corp EXAMPLE il intra com @ - / % x"
)


@given(st.lists(st.sampled_from([*TOKENS.split(" "), " "]), max_size=30))
def test_needs_is_true_whenever_apply_changes_free_text(tokens: list[str]) -> None:
    run(INTERNAL, sdo("malware", is_family=False, description="".join(tokens) or "-"))


def all_selectors(node: Any, prefix: str = "") -> list[str]:
    found = []
    items = enumerate(node) if isinstance(node, list) else node.items() if isinstance(node, dict) else ()
    for key, value in items:
        selector = f"{prefix}.[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else key
        found += [selector, *all_selectors(value, selector)]
    return found


def resolve(obj: Any, selector: str) -> Any:
    for step in selector.split("."):
        obj = obj[int(step[1:-1])] if step.startswith("[") else obj[step]
    return obj


SELECTABLE = attack_pattern()
SELECTORS = [s for s in all_selectors(SELECTABLE) if s != "granular_markings"]
REQUIRED = ("type", "id", "spec_version", "created", "modified", "name")


@given(
    st.lists(st.sampled_from(SELECTORS), unique=True, max_size=8),
    st.lists(st.sampled_from(SELECTORS), max_size=4),
)
def test_removed_selectors_leave_a_valid_object_or_none(removed: list[str], marked: list[str]) -> None:
    obj = copy.deepcopy(SELECTABLE)
    markings = {m["marking_ref"]: m["selectors"][0] for m in (marking(s) for s in marked)}
    if markings:
        obj["granular_markings"] = [{"selectors": [s], "marking_ref": ref} for ref, s in markings.items()]
    valid(obj)
    out = remove_selectors(obj, removed)
    if any(s.split(".")[0] in REQUIRED for s in removed):
        assert out is None
        return
    assert out is not None
    valid(out)
    leaves = set(orjson.dumps(out).decode().split('"'))
    for selector in removed:  # every leaf value is unique, so a removed one must not appear anywhere
        for leaf in all_selectors({"x": resolve(obj, selector)}) or ["x"]:
            value = resolve({"x": resolve(obj, selector)}, leaf)
            if isinstance(value, str):
                assert value not in leaves
    for name in obj:
        if name != "granular_markings" and not any(s.split(".")[0] == name for s in removed):
            assert out[name] == obj[name]
    for kept in out.get("granular_markings", ()):
        (selector,) = kept["selectors"]
        original = markings[kept["marking_ref"]]
        if not any(s.startswith(original + ".") for s in removed):
            assert resolve(out, selector) == resolve(obj, original)
