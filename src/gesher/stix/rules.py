"""The cross-property rules of STIX 2.1 validation: `obj -> None or a reason`, for what no single
property can say (timestamp order, required alternatives, granular-marking selectors resolving, built-in
TLP markings, `stix` patterns, SCO `value` formats, UUIDv4-only ids). `validate` attaches them to types
in its tables; they run after every property check passed, on the shapes those checks guarantee.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Container, Mapping
from typing import Any, Final

from gesher.stix import constants
from gesher.stix.patterns import pattern_object_types_error
from gesher.stix.properties import show
from gesher.stix.timestamps import timestamp_order_key

# Rules run after every property check passed, so they may rely on the checked shapes (hence Any).
Rule = Callable[[Mapping[str, Any]], str | None]

_SDO_TYPES: Final = (
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident", "indicator",
    "infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data",
    "opinion", "report", "threat-actor", "tool", "vulnerability",
)  # fmt: skip
# STIX 2.1 section 7.2.1.4: the four built-in TLP 1.0 marking definitions, and TLP 2.0 (constants).
_TLP1: Final = {
    marking_id: {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{color.upper()}",
        "definition": {"tlp": color},
    }
    for marking_id, color in (
        (constants.TLP1_WHITE, "white"),
        (constants.TLP1_GREEN, "green"),
        (constants.TLP1_AMBER, "amber"),
        (constants.TLP1_RED, "red"),
    )
}
_TLP2: Final = {
    constants.TLP2_CLEAR: "clear",
    constants.TLP2_GREEN: "green",
    constants.TLP2_AMBER: "amber",
    constants.TLP2_AMBER_STRICT: "amber+strict",
    constants.TLP2_RED: "red",
}


def order(first: str, second: str, *, strict: bool = False) -> Rule:
    """`second` must not be earlier than `first` (strict: must be later), when both are present."""

    def rule(obj: Mapping[str, Any]) -> str | None:
        a, b = obj.get(first), obj.get(second)
        if not (isinstance(a, str) and isinstance(b, str)):
            return None
        if len(a) != len(b):  # same length: same number of fractional digits, plain comparison is exact
            a, b = timestamp_order_key(a), timestamp_order_key(b)
            if a is None or b is None:  # already reported by the property check
                return None
        if strict and b <= a:
            return f"{second} must be later than {first}"
        return f"{second} is earlier than {first}" if b < a else None

    return rule


def selectors_resolve(obj: Mapping[str, Any]) -> str | None:
    """Each granular-marking selector must point at something in the object (STIX 2.1 7.2.3.1)."""
    markings = obj.get("granular_markings")
    if markings is None:
        return None
    for marking in markings:
        for selector in marking["selectors"]:
            node: Any = obj
            for step in selector.split("."):
                if step.startswith("["):
                    index = int(step[1:-1])
                    found = isinstance(node, list) and index < len(node)
                    node = node[index] if found else None
                else:
                    found = isinstance(node, dict) and step in node
                    node = node[step] if found else None
                if not found:
                    return f"granular_markings: selector {selector!r} does not point into the object"
    return None


def requires_one_of(*names: str) -> Rule:
    def rule(obj: Mapping[str, Any]) -> str | None:
        if any(n in obj for n in names):
            return None
        return f"{obj['type']}: needs at least one of {', '.join(names)}"

    return rule


def indicator(obj: Mapping[str, Any]) -> str | None:
    if obj.get("pattern_type") != "stix":
        return None  # sigma, snort, yara, suricata, pcre, spl, ...: non-empty strings
    reason = pattern_object_types_error(obj["pattern"])
    return None if reason is None else f"invalid STIX pattern: {reason}"


def malware(obj: Mapping[str, Any]) -> str | None:
    if obj.get("is_family") is True and "name" not in obj:
        return "malware: name is required when is_family is true"
    return None


def location(obj: Mapping[str, Any]) -> str | None:
    has_lat, has_lon = "latitude" in obj, "longitude" in obj
    if has_lat != has_lon:
        return "location: latitude and longitude go together"
    if "precision" in obj and not has_lat:
        return "location: precision requires latitude and longitude"
    if not has_lat and "region" not in obj and "country" not in obj:
        return "location: needs region, country, or latitude and longitude"
    return None


def observed_data(obj: Mapping[str, Any]) -> str | None:
    if ("objects" in obj) == ("object_refs" in obj):
        return "observed-data: needs exactly one of object_refs and (deprecated) objects"
    for ref in obj.get("object_refs", ()):
        if ref.partition("--")[0] in _SDO_TYPES:
            return f"observed-data: object_refs must point at SCOs or SROs, not {show(ref)}"
    return None


def marking_definition(obj: Mapping[str, Any]) -> str | None:
    """STIX 2.1 section 7.2.1: a definition (statement or tlp) or an extension; built-in TLP ids only
    with their own content; never marking itself."""
    oid = obj["id"]
    kind, definition = obj.get("definition_type"), obj.get("definition")
    if kind is None and definition is None:
        if "extensions" not in obj:
            return "marking-definition: needs definition_type and definition, or extensions"
    elif kind is None or definition is None:
        return "marking-definition: definition_type and definition go together"
    elif kind == "statement" and not isinstance(definition.get("statement"), str):
        return "marking-definition: a statement marking needs definition.statement (a string)"
    if (kind == "tlp" or oid in _TLP1) and obj != _TLP1.get(oid):
        return "marking-definition: TLP 1.0 markings must be exactly the four built-in STIX 2.1 definitions"
    reason = _tlp2(obj)
    if reason is not None:
        return reason
    refs = [m.get("marking_ref") for m in obj.get("granular_markings", ())]
    if oid in obj.get("object_marking_refs", ()) or oid in refs:
        return "marking-definition: a marking definition must not mark itself"
    return None


def _tlp2(obj: Mapping[str, Any]) -> str | None:
    extensions = obj.get("extensions")
    ext = extensions.get(constants.TLP2_EXTENSION_ID) if isinstance(extensions, dict) else None
    expected = _TLP2.get(obj["id"])
    if ext is None:
        return None if expected is None else "marking-definition: a TLP 2.0 id needs the TLP 2.0 extension"
    level = ext.get("tlp_2_0")
    if level not in _TLP2.values() or (expected is not None and level != expected):
        return f"marking-definition: tlp_2_0 {show(level)} does not fit this marking definition"
    return None


def extension_definition(obj: Mapping[str, Any]) -> str | None:
    if "extension_properties" in obj and "toplevel-property-extension" not in obj["extension_types"]:
        return "extension-definition: extension_properties only go with toplevel-property-extension"
    return None


def uuid4_only(obj: Mapping[str, Any]) -> str | None:
    """`process` ids, and those of SCOs without ID contributing properties, are UUIDv4 [6.1, 2.9]."""
    contributing = _ID_CONTRIBUTING.get(obj["type"])
    if contributing is not None and any(p in obj for p in contributing):
        return None
    if str(obj["id"])[-22] != "4":
        return f"{obj['type']}: this object's id must be a UUIDv4"
    return None


_ID_CONTRIBUTING: Final = {
    "artifact": ("hashes", "payload_bin"),
    "email-message": ("from_ref", "subject", "body"),
    "user-account": ("account_type", "user_id", "account_login"),
    "windows-registry-key": ("key", "values"),
    "x509-certificate": ("hashes", "serial_number"),
}


def artifact(obj: Mapping[str, Any]) -> str | None:
    if ("payload_bin" in obj) == ("url" in obj):
        return "artifact: needs exactly one of payload_bin and url"
    if "url" in obj and "hashes" not in obj:
        return "artifact: url requires hashes"
    return None


def network_traffic(obj: Mapping[str, Any]) -> str | None:
    return requires_one_of("src_ref", "dst_ref")(obj) or order("start", "end")(obj)


def value_format(pattern: re.Pattern[str], what: str) -> Rule:
    """The light format check of an SCO's `value` (required, a string, by then)."""

    def rule(obj: Mapping[str, Any]) -> str | None:
        return (
            None if pattern.fullmatch(obj["value"]) else f"{obj['type']}: {show(obj['value'])} is not {what}"
        )

    return rule


def ipv6(obj: Mapping[str, Any]) -> str | None:
    address, slash, prefix = obj["value"].partition("/")
    try:
        ipaddress.IPv6Network(address.partition("%")[0] + slash + prefix, strict=False)  # zone ids allowed
    except ValueError:
        return f"ipv6-addr: {show(obj['value'])} is not an IPv6 address or CIDR block"
    return None


def specific_property(common: Container[str]) -> Rule:
    """process, user-account, windows-registry-key, x509-certificate: at least one property of their
    own (or an extension) [6.11, 6.14, 6.16, 6.17]; `common` holds the SCO common property names."""

    def rule(obj: Mapping[str, Any]) -> str | None:
        if any(name not in common or name == "extensions" for name in obj):
            return None
        return f"{obj['type']}: needs at least one {obj['type']} property"

    return rule
