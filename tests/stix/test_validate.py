"""`object_error`: real data passes, hostile objects fail with a precise reason, and whatever the OASIS
`stix2-validator` calls an error (not a warning) we reject too, over a systematic set of mutations of
valid objects of every type."""

from __future__ import annotations

import copy
import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_instance

from gesher.stix.timestamps import parse_timestamp, timestamp_order_key
from gesher.stix.validate import object_error

STIX_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "stix"
DATA_FILES = (
    sorted(p for p in STIX_DATA.glob("*/*") if p.suffix in {".json", ".stix2"}) if STIX_DATA.is_dir() else []
)

UUID4 = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
IDENTITY = f"identity--{UUID4}"
MARKING = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"  # TLP 1.0 GREEN
INDICATOR_ID = f"indicator--{UUID4}"
MALWARE_ID = f"malware--{UUID4}"
FILE_ID = f"file--{UUID4}"
IPV4_ID = f"ipv4-addr--{UUID4}"
EXTENSION_ID = f"extension-definition--{UUID4}"
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
SHA256 = "d55e492d5fce87898e065572a5553d1ac1389cd12bf3d28cabc1218cb29780af"
T1, T2 = "2024-01-26T21:28:21.013Z", "2024-01-27T08:00:00.000Z"


def sdo(type_: str, **properties: object) -> dict[str, Any]:
    return {
        "type": type_,
        "id": f"{type_}--{UUID4}",
        "spec_version": "2.1",
        "created": T1,
        "modified": T2,
    } | properties


def sco(type_: str, **properties: object) -> dict[str, Any]:
    return {"type": type_, "id": f"{type_}--{UUID4}"} | properties


# One valid object of every kind, by name; each is also free of stix2-validator errors (checked below).
VALID: dict[str, dict[str, Any]] = {
    "indicator": sdo(
        "indicator",
        name="C2 domain",
        indicator_types=["malicious-activity"],
        pattern="[domain-name:value = 'weather4free.com']",
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=T1,
        valid_until=T2,
        created_by_ref=IDENTITY,
        object_marking_refs=[MARKING],
        labels=["pegasus"],
        confidence=80,
        lang="en",
        external_references=[{"source_name": "amnesty", "url": "https://example.org/r"}],
        kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}],
        granular_markings=[{"selectors": ["name", "external_references.[0].url"], "marking_ref": MARKING}],
    ),
    "sigma-indicator": sdo(
        "indicator", pattern="title: x\ndetection: {}", pattern_type="sigma", valid_from=T1
    ),
    "relationship": sdo(
        "relationship",
        relationship_type="indicates",
        source_ref=INDICATOR_ID,
        target_ref=MALWARE_ID,
        start_time=T1,
        stop_time=T2,
    ),
    "sighting": sdo(
        "sighting",
        sighting_of_ref=INDICATOR_ID,
        count=3,
        first_seen=T1,
        last_seen=T2,
        where_sighted_refs=[IDENTITY],
        observed_data_refs=[f"observed-data--{UUID4}"],
    ),
    "malware": sdo("malware", name="Pegasus", is_family=True, first_seen=T1, malware_types=["spyware"]),
    "malware-instance": sdo("malware", is_family=False),
    "attack-pattern": sdo("attack-pattern", name="Phishing"),
    "campaign": sdo("campaign", name="Green Group", first_seen=T1, last_seen=T2, objective="steal"),
    "course-of-action": sdo("course-of-action", name="Block"),
    "grouping": sdo("grouping", context="suspicious-activity", object_refs=[INDICATOR_ID, MALWARE_ID]),
    "identity": sdo("identity", name="CERT", identity_class="organization", sectors=["government"]),
    "incident": sdo("incident", name="Breach"),
    "infrastructure": sdo("infrastructure", name="C2", infrastructure_types=["command-and-control"]),
    "intrusion-set": sdo("intrusion-set", name="APT", goals=["espionage"], primary_motivation="ideology"),
    "location-region": sdo("location", region="south-eastern-asia"),
    "location-point": sdo("location", latitude=48.8566, longitude=2.3522, precision=1000.0),
    "malware-analysis": sdo(
        "malware-analysis",
        product="sandbox",
        result="malicious",
        sample_ref=FILE_ID,
        analysis_sco_refs=[FILE_ID],
    ),
    "note": sdo("note", content="seen twice", object_refs=[INDICATOR_ID], authors=["me"]),
    "observed-data": sdo(
        "observed-data", first_observed=T1, last_observed=T2, number_observed=50, object_refs=[IPV4_ID]
    ),
    "opinion": sdo("opinion", opinion="strongly-agree", object_refs=[INDICATOR_ID]),
    "report": sdo(
        "report", name="Pegasus", published=T2, object_refs=[INDICATOR_ID], report_types=["malware"]
    ),
    "threat-actor": sdo("threat-actor", name="Evil Org", threat_actor_types=["crime-syndicate"]),
    "tool": sdo("tool", name="VNC", tool_types=["remote-access"]),
    "vulnerability": sdo(
        "vulnerability",
        name="CVE-2021-30860",
        external_references=[{"source_name": "cve", "external_id": "CVE-2021-30860"}],
    ),
    "statement": {
        "type": "marking-definition",
        "id": "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
        "spec_version": "2.1",
        "created": "2017-06-01T00:00:00Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright"},
    },
    "tlp1-green": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": "TLP:GREEN",
        "definition": {"tlp": "green"},
    },
    "tlp2-clear": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:CLEAR",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "clear"}},
    },
    "language-content": sdo(
        "language-content",
        object_ref=MALWARE_ID,
        object_modified=T2,
        contents={"de": {"name": "Pegasus-Spähware"}},
    ),
    "extension-definition": sdo(
        "extension-definition",
        created_by_ref=IDENTITY,
        name="gesher tiers",
        schema="https://example.org/schema.json",
        version="1.0.0",
        extension_types=["property-extension"],
    ),
    "custom": sdo(
        "x-mitre-tactic", name="Impact", x_mitre_shortname="impact", x_mitre_modified_by_ref=IDENTITY
    ),
    "new-sdo": sdo("my-new-object", size=3, extensions={EXTENSION_ID: {"extension_type": "new-sdo"}}),
    "file": sco("file", spec_version="2.1", name="a.exe", hashes={"SHA-256": SHA256, "x-custom": "abc"}),
    "domain-name": sco("domain-name", spec_version="2.1", value="example.com", resolves_to_refs=[IPV4_ID]),
    "ipv4-addr": sco("ipv4-addr", value="198.51.100.3"),
    "ipv6-addr": sco("ipv6-addr", value="2001:db8::1"),
    "mac-addr": sco("mac-addr", value="d2:fb:49:24:37:18"),
    "email-addr": sco("email-addr", value="a@example.com"),
    "url": sco("url", value="https://example.com/x"),
    "mutex": sco("mutex", name="__CLEANSWEEP__"),
    "autonomous-system": sco("autonomous-system", number=15139),
    "directory": sco("directory", path="C:\\Windows"),
    "software": sco("software", name="Word"),
    "network-traffic": sco("network-traffic", protocols=["tcp"], dst_ref=IPV4_ID, dst_port=443),
    "process": sco("process", pid=1221),
    "email-message": sco("email-message", is_multipart=False, subject="hi"),
    "artifact": sco("artifact", mime_type="text/plain", payload_bin="aGVsbG8="),
    "user-account": sco("user-account", user_id="1001"),
    "windows-registry-key": sco("windows-registry-key", key="hkey_local_machine\\system\\bar\\foo"),
    "x509-certificate": sco("x509-certificate", serial_number="36:f7:d4:32:f4:ab:70:ea"),
}
INDICATOR, RELATIONSHIP, SIGHTING = VALID["indicator"], VALID["relationship"], VALID["sighting"]
MALWARE, STATEMENT, TLP2_CLEAR = VALID["malware"], VALID["statement"], VALID["tlp2-clear"]
CUSTOM, NEW_SDO, FILE = VALID["custom"], VALID["new-sdo"], VALID["file"]

_OPTIONS = ValidationOptions(version="2.1")


def validator_errors(obj: dict[str, Any]) -> list[str]:
    """stix2-validator's errors (its warnings are advice, not rejections); a crash counts as one."""
    try:
        return [str(e) for e in validate_instance(obj, _OPTIONS).errors]
    except Exception as exc:
        return [f"stix2-validator crashed: {exc!r}"]


def changed(base: dict[str, Any], **changes: object) -> dict[str, Any]:
    obj = copy.deepcopy(base)
    obj.update(changes)
    return obj


def without(base: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in copy.deepcopy(base).items() if k not in names}


# --- real data ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not DATA_FILES, reason=f"real STIX data not found in {STIX_DATA}")
@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_every_real_object_is_accepted(path: Path) -> None:
    objects = json.loads(path.read_bytes())["objects"]
    assert objects
    rejected = {o.get("id"): object_error(o) for o in objects if object_error(o) is not None}
    assert rejected == {}


@pytest.mark.parametrize("obj", VALID.values(), ids=VALID.keys())
def test_valid_objects_of_every_kind_are_accepted_here_and_by_the_oasis_validator(
    obj: dict[str, Any],
) -> None:
    assert object_error(obj) is None
    assert validator_errors(obj) == []


# --- hostile objects ----------------------------------------------------------------------------------

HOSTILE: list[tuple[object, str]] = [
    ("not an object", "must be a JSON object"),
    ([INDICATOR], "must be a JSON object"),
    (without(INDICATOR, "type"), "missing required property 'type'"),
    (changed(INDICATOR, type=7), "type must be a string"),
    (
        changed(INDICATOR, type="foo", id="foo--05b7c427-1452-437e-a19e-32590edf60c3"),
        "unknown object type 'foo'",
    ),
    (changed(INDICATOR, type="Indicator"), "not a valid STIX type name"),
    (changed(INDICATOR, type="x--y"), "not a valid STIX type name"),
    (changed(INDICATOR, type="x-"), "not a valid STIX type name"),
    (changed(INDICATOR, type="ab"), "not a valid STIX type name"),
    (changed(INDICATOR, type="bundle", id="bundle--05b7c427-1452-437e-a19e-32590edf60c3"), "cannot be used"),
    (without(INDICATOR, "id"), "missing required property 'id'"),
    (changed(INDICATOR, id=MALWARE_ID), "id type part 'malware' does not match type 'indicator'"),
    (changed(INDICATOR, id="indicator--05B7C427-1452-437e-a19e-32590edf60c3"), "not a STIX identifier"),
    (changed(INDICATOR, id="indicator--05b7c427-1452-637e-a19e-32590edf60c3"), "not a STIX identifier"),
    (changed(INDICATOR, id="indicator--05b7c427-1452-437e-c19e-32590edf60c3"), "not a STIX identifier"),
    (changed(INDICATOR, id="indicator--05b7c427145243..."), "not a STIX identifier"),
    (without(INDICATOR, "spec_version"), "STIX 2.0 content is not accepted"),
    (changed(INDICATOR, spec_version="2.0"), "STIX 2.0 content is not accepted"),
    (changed(INDICATOR, spec_version=2.1), "spec_version must be '2.1'"),
    (changed(FILE, spec_version="2.0"), "STIX 2.0 content is not accepted"),
    (without(INDICATOR, "valid_from"), "indicator: missing required property 'valid_from'"),
    (without(INDICATOR, "created"), "indicator: missing required property 'created'"),
    (changed(INDICATOR, created="2024-01-26 21:28:21.013Z"), "not a STIX timestamp"),
    (changed(INDICATOR, created="2024-02-30T21:28:21.013Z"), "not a STIX timestamp"),
    (changed(INDICATOR, created="2024-01-26T21:28:21.013Z\n"), "not a STIX timestamp"),
    (changed(INDICATOR, created="\uff12024-01-26T21:28:21.013Z"), "not a STIX timestamp"),
    (changed(INDICATOR, created="2024-01-26T21:28:21Z"), "precise to the millisecond"),
    (changed(INDICATOR, created=T2, modified=T1), "modified is earlier than created"),
    (
        changed(INDICATOR, created="2024-01-26T21:28:21.0130000001Z", modified="2024-01-26T21:28:21.013Z"),
        "modified is earlier than created",
    ),
    (changed(INDICATOR, valid_until=T1), "valid_until must be later than valid_from"),
    (changed(INDICATOR, created_by_ref=MALWARE_ID), "created_by_ref must point at identity"),
    (changed(INDICATOR, created_by_ref="identity"), "not a STIX identifier"),
    (changed(INDICATOR, revoked="false"), "revoked must be true or false"),
    (changed(INDICATOR, labels="pegasus"), "labels must be a non-empty list of strings"),
    (changed(INDICATOR, labels=[]), "labels must be a non-empty list of strings"),
    (changed(INDICATOR, confidence=101), "confidence must be an integer from 0 to 100"),
    (changed(INDICATOR, confidence=True), "confidence must be an integer"),
    (changed(INDICATOR, lang="english language"), "RFC 5646 language tag"),
    (changed(INDICATOR, external_references=[{"url": "https://x"}]), "source_name is required"),
    (changed(INDICATOR, external_references=[{"source_name": "x"}]), "needs at least one of description"),
    (changed(INDICATOR, external_references=[{"source_name": "cve", "external_id": "CVE-1"}]), "well-formed"),
    (
        changed(
            INDICATOR, external_references=[{"source_name": "x", "url": "u", "hashes": {"SHA-256": "ab"}}]
        ),
        "not a valid SHA-256 value",
    ),
    (changed(INDICATOR, object_marking_refs=[IDENTITY]), "must point at marking-definition"),
    (changed(INDICATOR, object_marking_refs=[]), "non-empty list"),
    (changed(INDICATOR, granular_markings=[{"selectors": ["name"]}]), "exactly one of marking_ref and lang"),
    (
        changed(INDICATOR, granular_markings=[{"selectors": ["name"], "marking_ref": MARKING, "lang": "en"}]),
        "exactly one of marking_ref and lang",
    ),
    (
        changed(INDICATOR, granular_markings=[{"selectors": [], "lang": "en"}]),
        "selectors must be a non-empty list",
    ),
    (changed(INDICATOR, granular_markings=[{"selectors": ["Name"], "lang": "en"}]), "not a valid selector"),
    (
        changed(INDICATOR, granular_markings=[{"selectors": ["external_references.[3].url"], "lang": "en"}]),
        "does not point into the object",
    ),
    (changed(INDICATOR, granular_markings=[{"selectors": ["nothing"], "lang": "en"}]), "does not point into"),
    (changed(INDICATOR, extensions={}), "extensions must be a non-empty JSON object"),
    (
        changed(INDICATOR, extensions={"foo": {"a": 1}}),
        "neither an extension-definition id nor a '-ext' name",
    ),
    (changed(INDICATOR, extensions={EXTENSION_ID: {"rank": 1}}), "needs an extension_type"),
    (
        changed(INDICATOR, extensions={"extension-definition--x": {}}),
        "not an extension-definition identifier",
    ),
    (changed(INDICATOR, extensions={"x-acme-ext": {}}), "must be a non-empty JSON object"),
    (changed(INDICATOR, Name="x"), "invalid property name 'Name'"),
    (changed(INDICATOR, ab="x"), "invalid property name 'ab'"),
    (changed(INDICATOR, **{"x-acme": 1}), "invalid property name 'x-acme'"),
    (changed(INDICATOR, severity="high"), "'severity' is a reserved property name"),
    (changed(INDICATOR, x_acme_ref="indicator"), "x_acme_ref: 'indicator' is not a STIX identifier"),
    (changed(INDICATOR, x_acme_refs=[INDICATOR_ID, "nope"]), "x_acme_refs: 'nope' is not a STIX identifier"),
    (changed(INDICATOR, x_acme_refs=[]), "non-empty list"),
    (changed(INDICATOR, x_acme_list=[]), "empty lists are not allowed"),
    (changed(INDICATOR, x_acme=None), "null is not a STIX value"),
    (changed(INDICATOR, x_acme_hex="abc"), "must be a hex string"),
    (changed(INDICATOR, x_acme_bin="a"), "must be base64"),
    (changed(INDICATOR, pattern=""), "pattern must be a non-empty string"),
    (changed(INDICATOR, pattern="[domain-name:value = 'x'"), "invalid STIX pattern"),
    (changed(INDICATOR, pattern="[file:hashes.MD5 = 'abc']"), "not a valid MD5 hash"),
    (changed(INDICATOR, pattern="[Domain-Name:value = 'x']"), "not a valid STIX type name"),
    (changed(INDICATOR, pattern_type=""), "pattern_type must be a non-empty string"),
    (changed(INDICATOR, kill_chain_phases=[{"phase_name": "x"}]), "kill_chain_name and phase_name"),
    (without(RELATIONSHIP, "target_ref"), "relationship: missing required property 'target_ref'"),
    (changed(RELATIONSHIP, relationship_type="Indicates"), "relationship_type must use only"),
    (changed(RELATIONSHIP, source_ref="sighting--ee20065d-2555-424f-ad9e-0f8263e3f39a"), "must not point at"),
    (changed(RELATIONSHIP, target_ref=MARKING), "must not point at a 'marking-definition'"),
    (changed(RELATIONSHIP, stop_time=T1), "stop_time must be later than start_time"),
    (changed(SIGHTING, count=-1), "count must be an integer from 0 to 999,999,999"),
    (changed(SIGHTING, count=1_000_000_000), "count must be an integer"),
    (changed(SIGHTING, first_seen=T2, last_seen=T1), "last_seen is earlier than first_seen"),
    (changed(SIGHTING, where_sighted_refs=[INDICATOR_ID]), "must point at identity or location"),
    (changed(SIGHTING, sighting_of_ref=RELATIONSHIP["id"]), "must not point at a 'relationship'"),
    (without(MALWARE, "is_family"), "malware: missing required property 'is_family'"),
    (without(MALWARE, "name"), "name is required when is_family is true"),
    (changed(MALWARE, is_family="yes"), "is_family must be true or false"),
    (changed(MALWARE, first_seen=T2, last_seen=T1), "last_seen is earlier than first_seen"),
    (changed(VALID["grouping"], context=1), "context must be a string"),
    (without(VALID["grouping"], "object_refs"), "grouping: missing required property 'object_refs'"),
    (changed(VALID["location-point"], latitude=91.0), "latitude must be a number from -90.0 to 90.0"),
    (changed(VALID["location-point"], longitude="2.35"), "longitude must be a number"),
    (without(VALID["location-point"], "longitude"), "latitude and longitude go together"),
    (without(VALID["location-region"], "region"), "needs region, country, or latitude and longitude"),
    (
        without(VALID["malware-analysis"], "result", "analysis_sco_refs"),
        "needs at least one of result, analysis_sco_refs",
    ),
    (changed(VALID["observed-data"], number_observed=0), "number_observed must be an integer from 1"),
    (
        changed(VALID["observed-data"], objects={"0": {"type": "ipv4-addr", "value": "1.2.3.4"}}),
        "needs exactly one of",
    ),
    (changed(VALID["observed-data"], object_refs=[INDICATOR_ID]), "must point at SCOs or SROs"),
    (
        changed(VALID["observed-data"], first_observed=T2, last_observed=T1),
        "last_observed is earlier than first_observed",
    ),
    (changed(VALID["opinion"], opinion="maybe"), "opinion must be one of"),
    (without(VALID["report"], "published"), "report: missing required property 'published'"),
    (without(STATEMENT, "created"), "marking-definition: missing required property 'created'"),
    (without(STATEMENT, "spec_version"), "STIX 2.0 content is not accepted"),
    (
        without(STATEMENT, "definition", "definition_type"),
        "needs definition_type and definition, or extensions",
    ),
    (without(STATEMENT, "definition"), "definition_type and definition go together"),
    (changed(STATEMENT, definition={"text": "x"}), "needs definition.statement"),
    (changed(STATEMENT, object_marking_refs=[STATEMENT["id"]]), "must not mark itself"),
    (changed(VALID["tlp1-green"], name="TLP:GREENISH"), "exactly the four built-in STIX 2.1 definitions"),
    (changed(VALID["tlp1-green"], definition={"tlp": "red"}), "exactly the four built-in"),
    (changed(STATEMENT, definition_type="tlp", definition={"tlp": "green"}), "exactly the four built-in"),
    (changed(STATEMENT, id=TLP2_CLEAR["id"]), "a TLP 2.0 id needs the TLP 2.0 extension"),
    (
        changed(
            TLP2_CLEAR,
            extensions={
                "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                    "extension_type": "property-extension",
                    "tlp_2_0": "red",
                }
            },
        ),
        "tlp_2_0 'red' does not fit",
    ),
    (without(TLP2_CLEAR, "extensions"), "needs definition_type and definition, or extensions"),
    (
        changed(VALID["language-content"], contents={"english please": {"name": "x"}}),
        "not an RFC 5646 language tag",
    ),
    (changed(VALID["language-content"], contents={"de": {"Name": "x"}}), "is not a property name"),
    (
        changed(VALID["language-content"], object_ref="bundle--b86bd89f-98bb-4fa9-8cb2-9ad421da981d"),
        "must not point at a 'bundle'",
    ),
    (
        without(VALID["extension-definition"], "created_by_ref"),
        "extension-definition: missing required property 'created_by_ref'",
    ),
    (
        changed(VALID["extension-definition"], extension_types=["new-thing"]),
        "extension_types must be a non-empty list from",
    ),
    (
        changed(VALID["extension-definition"], extension_properties=["x_y"]),
        "only go with toplevel-property-extension",
    ),
    (without(CUSTOM, "created"), "x-mitre-tactic: missing required property 'created'"),
    (without(CUSTOM, "spec_version"), "STIX 2.0 content is not accepted"),
    (changed(CUSTOM, x_mitre_modified_by_ref="nope"), "not a STIX identifier"),
    (
        changed(NEW_SDO, extensions={EXTENSION_ID: {"extension_type": "property-extension"}}),
        "unknown object type",
    ),
    (without(NEW_SDO, "spec_version"), "STIX 2.0 content is not accepted"),
    (without(FILE, "name", "hashes"), "file: needs at least one of hashes, name"),
    (changed(FILE, hashes={"MD5": "xyz"}), "not a valid MD5 value"),
    (changed(FILE, hashes={}), "hashes must be a non-empty JSON object"),
    (changed(FILE, size=-1), "size must be an integer"),
    (changed(FILE, id="file--6ce09d9c-0ad3-5ebf-900c-e3cb288955b5x"), "not a STIX identifier"),
    (changed(VALID["ipv4-addr"], value="1.2.3.256"), "not an IPv4 address"),
    (changed(VALID["ipv6-addr"], value="2001:db8::g"), "not an IPv6 address"),
    (changed(VALID["mac-addr"], value="D2:FB:49:24:37:18"), "lower-case, colon-delimited MAC address"),
    (changed(VALID["email-addr"], value="nobody"), "not an e-mail address"),
    (changed(VALID["url"], value="example.com/x"), "not a URL"),
    (changed(VALID["domain-name"], value="exa mple.com"), "not a domain name"),
    (without(VALID["mutex"], "name"), "mutex: missing required property 'name'"),
    (changed(VALID["autonomous-system"], number="15139"), "number must be an integer"),
    (without(VALID["network-traffic"], "dst_ref"), "needs at least one of src_ref, dst_ref"),
    (changed(VALID["network-traffic"], dst_port=65536), "dst_port must be an integer from 0 to 65,535"),
    (changed(VALID["process"], id="process--f52a906a-0dfc-50bd-92f1-e7778ead38a9"), "must be a UUIDv4"),
    (without(VALID["process"], "pid"), "needs at least one process property"),
    (changed(VALID["artifact"], url="https://x/a.bin"), "needs exactly one of payload_bin and url"),
    (changed(VALID["artifact"], mime_type="plain text"), "must be a media type"),
]


@pytest.mark.parametrize(("obj", "fragment"), HOSTILE, ids=lambda v: v if isinstance(v, str) else None)
def test_hostile_objects_are_rejected_with_a_precise_reason(obj: object, fragment: str) -> None:
    reason = object_error(obj)
    assert reason is not None
    assert fragment in reason


def test_created_and_modified_compare_exactly_at_any_precision() -> None:
    obj = without(INDICATOR, "valid_until")
    assert (
        object_error(
            changed(obj, created="2024-01-26T21:28:21.500Z", modified="2024-01-26T21:28:21.5000000Z")
        )
        is None
    )
    late = changed(obj, created="2024-01-26T21:28:21.500Z", modified="2024-01-26T21:28:21.499999999999Z")
    assert object_error(late) == "modified is earlier than created"
    assert object_error(changed(obj, created="2024-01-26T21:28:21.5Z")) == (
        "created must be precise to the millisecond (e.g. 2024-01-31T12:00:00.000Z)"
    )


def test_mitre_empty_custom_reference_is_tolerated_but_only_there() -> None:
    assert object_error(changed(CUSTOM, x_mitre_data_source_ref="")) is None
    assert object_error(changed(INDICATOR, sample_ref="")) is not None  # not custom: a reference or nothing
    assert object_error(changed(CUSTOM, x_mitre_data_source_ref="x")) is not None


# --- agreement with stix2-validator ------------------------------------------------------------------

BAD_VALUES: list[object] = [
    None, "", "x", [], ["x"], {"a": 1}, -1, 1_000_000_000, 1.5, True, "2024-13-01T00:00:00Z",
    "2024-01-26T21:28:21Z", "2099-01-01T00:00:00.000Z", IDENTITY, [INDICATOR_ID], [{}],
]  # fmt: skip
EXTRA_PROPERTIES: list[tuple[str, object]] = [
    ("x_custom_ref", "nope"), ("BadName", 1), ("ab", 1), ("severity", "high"), ("x_list", []),
    ("x_refs", ["x"]), ("x_hex", "zz"), ("x_bin", "!!"), ("spec_version", "2.0"), ("hashes", {"MD5": "x"}),
    ("granular_markings", [{"selectors": ["nope"], "marking_ref": MARKING}]),
    ("granular_markings", [{"selectors": ["type"], "lang": "en", "marking_ref": MARKING}]),
    ("extensions", {"foo": {"a": 1}}), ("extensions", {"x-foo-ext": {}}),
    ("extensions", {EXTENSION_ID: {"a": 1}}), ("external_references", [{"source_name": "x"}]),
    ("external_references", [{"source_name": "cve", "external_id": "x"}]),
    ("object_marking_refs", [IDENTITY]), ("created_by_ref", MALWARE_ID),
]  # fmt: skip


def mutations(base: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [(f"without {name}", without(base, name)) for name in base]
    out += [(f"{name}={value!r}", changed(base, **{name: value})) for name in base for value in BAD_VALUES]
    out += [(f"+{name}={value!r}", changed(base, **{name: value})) for name, value in EXTRA_PROPERTIES]
    return out


@pytest.mark.parametrize("base", VALID.values(), ids=VALID.keys())
def test_what_the_oasis_validator_calls_an_error_we_reject(base: dict[str, Any]) -> None:
    """Every property removed, every property set to each of a list of wrong values, and a list of
    hostile additions: where stix2-validator reports an error, object_error must give a reason."""
    missed = [
        (how, errors[0])
        for how, obj in mutations(base)
        if object_error(obj) is None and (errors := validator_errors(obj))
    ]
    assert missed == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(VALID.values())),
    st.sampled_from([*sorted({k for o in VALID.values() for k in o}), "x_y", "extensions"]),
    json_values,
)
def test_any_json_in_any_property_gives_an_answer_not_an_exception(
    base: dict[str, Any], name: str, value: object
) -> None:
    reason = object_error(changed(base, **{name: value}))
    assert reason is None or isinstance(reason, str)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_gives_an_answer_not_an_exception(value: object) -> None:
    reason = object_error(value)
    assert reason is None or isinstance(reason, str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(list(VALID.values())),
    st.sampled_from(sorted({k for o in VALID.values() for k in o})),
    json_values,
)
def test_random_wrong_values_the_oasis_validator_rejects_we_reject(
    base: dict[str, Any], name: str, value: object
) -> None:
    obj = changed(base, **{name: value})
    if validator_errors(obj):
        assert object_error(obj) is not None


# --- timestamps ----------------------------------------------------------------------------------------

timestamp_like = st.builds(
    lambda y, mo, d, h, mi, s, frac, tail: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{tail}",
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 24), st.integers(0, 60),
    st.integers(0, 61), st.sampled_from(["", ".0", ".5", ".123", ".1234567891234", "."]),
    st.sampled_from(["Z", "Z", "Z", "z", "+00:00", "Z\n", ""]),
)  # fmt: skip


@settings(max_examples=500)
@given(timestamp_like | st.text(alphabet=string.digits + "-T:.Z\u0660", max_size=26))
def test_timestamp_order_key_accepts_what_parse_timestamp_accepts_in_ascii(value: str) -> None:
    strict = value.isascii() and not value.endswith("\n")
    assert (timestamp_order_key(value) is not None) == (parse_timestamp(value) is not None and strict)


@settings(max_examples=500)
@given(timestamp_like, timestamp_like)
def test_timestamp_order_key_orders_exactly(a: str, b: str) -> None:
    ka, kb = timestamp_order_key(a), timestamp_order_key(b)
    if ka is None or kb is None:
        return
    pa, pb = parse_timestamp(a), parse_timestamp(b)
    assert pa is not None and pb is not None
    exact_a = (pa[0], (pa[1] + "0" * 20)[:20])
    exact_b = (pb[0], (pb[1] + "0" * 20)[:20])
    assert (ka < kb) == (exact_a < exact_b)
    assert (ka == kb) == (exact_a == exact_b)


@settings(max_examples=500)
@given(timestamp_like)
def test_timestamp_properties_accept_exactly_what_timestamp_order_key_accepts(value: str) -> None:
    obj = changed(without(INDICATOR, "valid_until"), valid_from=value)
    assert (object_error(obj) is None) == (timestamp_order_key(value) is not None)
