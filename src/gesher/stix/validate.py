"""Is this a STIX 2.1 object a strict exchange should accept? `object_error` answers with None or one
short, precise reason. It runs on every object of every ingest, so it is table-driven: one dict lookup
per property, precompiled regular expressions, no `stix2` library and no datetime objects on the hot
path: about 6 µs per object over the real Amnesty and MITRE ATT&CK bundles on the development machine.

What is checked (STIX 2.1 OS section numbers in brackets):
- the object is a JSON object; `type` is a known type, a custom `x-` type, or a type declared by a
  new-object extension definition [3.1, 7.3, 11.1]; `id` is `<type>--<UUID>` with RFC 4122 version and
  variant bits, in lower case [2.9];
- top-level property names: a-z, 0-9, `_`, 3 to 250 characters [3.1]; `action`, `severity`,
  `username` and `phone_numbers` are reserved; empty lists are not allowed [2.8];
- `spec_version` is '2.1' and required on everything but SCOs; STIX 2.0 content is refused [3.2];
- the common properties: timestamps (created and modified to the millisecond or finer), `modified` not
  before `created` (compared exactly, every fractional digit), references of the right type, markings,
  external references, extensions [3.2, 7.2, 7.3];
- every top-level `*_ref` / `*_refs` value is an identifier (nested ones are not walked: cheap first);
- each SDO, SRO and meta object's required properties and cross-property rules [4, 5, 7], and
  `pattern_type: stix` patterns through `patterns.pattern_object_types_error` [9];
- SCOs lightly: `id`, plus each type's required property [6].

The property checks are in `properties`, the cross-property rules in `rules`; this module holds the
tables that pair them with STIX types and property names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from gesher.stix.properties import (
    Check,
    accept,
    boolean,
    core_timestamp,
    custom_property,
    dictionary,
    enum,
    extension_types,
    extensions,
    external_references,
    granular_markings,
    hashes,
    id_error,
    identifiers,
    int_range,
    kill_chain_phases,
    language,
    language_contents,
    media_type,
    nonempty_string,
    number_range,
    ref_not,
    ref_of,
    refs_of,
    relationship_type,
    reserved,
    show,
    spec_version,
    string,
    strings,
    timestamp,
)
from gesher.stix.rules import (
    Rule,
    artifact,
    extension_definition,
    indicator,
    ipv6,
    location,
    malware,
    marking_definition,
    network_traffic,
    observed_data,
    order,
    requires_one_of,
    selectors_resolve,
    specific_property,
    uuid4_only,
    value_format,
)

_TYPE_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")  # and 3..250 long; no `--`, which ends it in ids
# The SCO `value` formats (light: `rules.value_format` applies them).
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    r"(?:/(?:3[0-2]|[12]?[0-9]))?"
)
_MAC = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}")  # colon-delimited, lower case [6.8]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_DOMAIN = re.compile(r"[^\s/:@]+")
_OPINIONS: Final = frozenset({"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"})
_RESERVED_PROPERTIES: Final = ("action", "severity", "username", "phone_numbers")
_RESERVED_TYPES: Final = frozenset({"action", "bundle"})
_NOT_RELATABLE: Final = ("relationship", "sighting", "bundle", "marking-definition", "language-content")


def object_error(obj: object) -> str | None:
    """None if `obj` is a valid STIX 2.1 object a strict exchange accepts, else the reason."""
    if not isinstance(obj, dict):
        return "a STIX object must be a JSON object"
    t = obj.get("type")
    if not isinstance(t, str):
        return "missing required property 'type'" if t is None else "type must be a string"
    spec = _SPECS.get(t)
    if spec is None:
        spec_or_reason = _unlisted_type(obj, t)
        if isinstance(spec_or_reason, str):
            return spec_or_reason
        spec = spec_or_reason
    reason = id_error(t, obj["id"]) if "id" in obj else f"{t}: missing required property 'id'"
    if reason is not None:
        return reason
    for name in spec.required:
        if name not in obj:
            return _missing(t, name)
    table = spec.table
    for name, value in obj.items():
        check = table.get(name)
        reason = custom_property(name, value) if check is None else check(name, value)
        if reason is not None:
            return reason
    for rule in spec.rules:
        reason = rule(obj)
        if reason is not None:
            return reason
    return None


@dataclass(frozen=True, slots=True)
class _Spec:
    table: Mapping[str, Check]  # property name -> check; names not in it are custom properties
    required: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()


def _missing(t: str, name: str) -> str:
    if name == "spec_version":
        return f"{t}: missing required property 'spec_version' (STIX 2.0 content is not accepted)"
    return f"{t}: missing required property {name!r}"


# --- tables -----------------------------------------------------------------------------------------

_SCO_COMMON: Final[dict[str, Check]] = {
    "type": accept,
    "id": accept,
    "spec_version": spec_version,
    "object_marking_refs": refs_of("marking-definition"),
    "granular_markings": granular_markings,
    "extensions": extensions,
    "defanged": boolean,
    # Not SCO properties, but their meaning is fixed everywhere (and stix2-validator checks them).
    "created": timestamp,
    "modified": timestamp,
    "lang": language,
    "external_references": external_references,
    **dict.fromkeys(_RESERVED_PROPERTIES, reserved),
}
_COMMON: Final[dict[str, Check]] = {
    **_SCO_COMMON,
    "created_by_ref": ref_of("identity"),
    "created": core_timestamp,
    "modified": core_timestamp,
    "revoked": boolean,
    "labels": strings,
    "confidence": int_range(0, 100),
    "lang": language,
    "external_references": external_references,
}


def _each(names: str, check: Check) -> dict[str, Check]:
    return dict.fromkeys(names.split(), check)


# Properties of the STIX 2.1 SDOs, SROs and meta objects. A name means the same everywhere it is
# defined, so one table serves them all; custom objects only get the common properties checked.
_DEFINED: Final[dict[str, Check]] = {
    **_COMMON,
    **_each(
        """name description objective context identity_class contact_information resource_level
        primary_motivation sophistication tool_version abstract region country administrative_area city
        street_address postal_code product version configuration_version analysis_engine_version
        explanation analysis_definition_version result_name result content schema""",
        string,
    ),
    **_each(
        """aliases roles sectors indicator_types infrastructure_types goals secondary_motivations
        personal_motivations malware_types capabilities architecture_execution_envs
        implementation_languages modules authors report_types threat_actor_types tool_types
        extension_properties""",
        strings,
    ),
    **_each(
        """first_seen last_seen valid_from valid_until published submitted analysis_started analysis_ended
        first_observed last_observed start_time stop_time object_modified""",
        timestamp,
    ),
    "kill_chain_phases": kill_chain_phases,
    "pattern": nonempty_string,
    "pattern_type": nonempty_string,
    "pattern_version": string,
    "is_family": boolean,
    "summary": boolean,
    "latitude": number_range(-90.0, 90.0),
    "longitude": number_range(-180.0, 180.0),
    "precision": number_range(0.0, float("inf")),
    "number_observed": int_range(1, 999_999_999),
    "count": int_range(0, 999_999_999),
    "opinion": enum(_OPINIONS),
    "objects": dictionary,
    "contents": language_contents,
    "definition_type": string,
    "definition": dictionary,
    "extension_types": extension_types,
    "relationship_type": relationship_type,
    "object_refs": identifiers,
    "analysis_sco_refs": identifiers,
    "source_ref": ref_not(*_NOT_RELATABLE),
    "target_ref": ref_not(*_NOT_RELATABLE),
    "sighting_of_ref": ref_not(*_NOT_RELATABLE),
    "object_ref": ref_not("bundle", "language-content"),
    "observed_data_refs": refs_of("observed-data"),
    "where_sighted_refs": refs_of("identity", "location"),
    "operating_system_refs": refs_of("software"),
    "installed_software_refs": refs_of("software"),
    "host_vm_ref": ref_of("software"),
    "operating_system_ref": ref_of("software"),
    "sample_refs": refs_of("artifact", "file"),
    "sample_ref": ref_of("artifact", "file", "network-traffic"),
}
# Properties of the 18 STIX 2.1 SCOs (section 6), typed; as for SDOs, a name has one type everywhere.
# `*_ref(s)`, `*_bin` and `*_hex` ones are left to the suffix rules.
_SCO_TABLE: Final[dict[str, Check]] = {
    **_SCO_COMMON,
    **_each(
        """value name path account_login account_type command_line content_type credential cwd
        decryption_key display_name issuer encryption_algorithm key message_id name_enc path_enc rir
        serial_number signature_algorithm subject subject_public_key_algorithm subject_public_key_modulus
        swid user_id vendor version cpe body url""",
        string,
    ),
    **_each(
        """number pid dst_byte_count src_byte_count dst_packets src_packets number_of_subkeys
        subject_public_key_exponent""",
        int_range(-(2**63), 2**63 - 1),
    ),
    **_each("src_port dst_port", int_range(0, 65535)),
    "size": int_range(0, 2**63 - 1),
    **_each(
        """is_multipart is_active is_hidden is_self_signed is_disabled is_privileged is_service_account
        can_escalate_privs""",
        boolean,
    ),
    **_each(
        """account_created account_expires account_first_login account_last_login atime ctime mtime
        created_time credential_last_changed date start end modified_time validity_not_after
        validity_not_before""",
        timestamp,
    ),
    **_each("protocols received_lines languages", strings),
    **_each("environment_variables ipfix additional_header_fields x509_v3_extensions", dictionary),
    "hashes": hashes,
    "mime_type": media_type,
}
_MARKING_TABLE: Final[dict[str, Check]] = {**_DEFINED, "created": timestamp}

_CORE: Final = ("spec_version", "created", "modified")
_CORE_RULES: Final[tuple[Rule, ...]] = (order("created", "modified"), selectors_resolve)
_SEEN: Final = order("first_seen", "last_seen")
_SPECIFIC_PROPERTY: Final = specific_property(_SCO_COMMON)


def _sdo(*required: str, rules: tuple[Rule, ...] = ()) -> _Spec:
    return _Spec(_DEFINED, _CORE + required, _CORE_RULES + rules)


def _sco(*required: str, rules: tuple[Rule, ...] = ()) -> _Spec:
    return _Spec(_SCO_TABLE, required, (selectors_resolve, *rules))


_SPECS: Final[dict[str, _Spec]] = {
    "attack-pattern": _sdo("name"),
    "campaign": _sdo("name", rules=(_SEEN,)),
    "course-of-action": _sdo("name"),
    "grouping": _sdo("context", "object_refs"),
    "identity": _sdo("name"),
    "incident": _sdo("name"),
    "indicator": _sdo(
        "pattern",
        "pattern_type",
        "valid_from",
        rules=(order("valid_from", "valid_until", strict=True), indicator),
    ),
    "infrastructure": _sdo("name", rules=(_SEEN,)),
    "intrusion-set": _sdo("name", rules=(_SEEN,)),
    "location": _sdo(rules=(location,)),
    "malware": _sdo("is_family", rules=(malware, _SEEN)),
    "malware-analysis": _sdo("product", rules=(requires_one_of("result", "analysis_sco_refs"),)),
    "note": _sdo("content", "object_refs"),
    "observed-data": _sdo(
        "first_observed",
        "last_observed",
        "number_observed",
        rules=(observed_data, order("first_observed", "last_observed")),
    ),
    "opinion": _sdo("opinion", "object_refs"),
    "report": _sdo("name", "published", "object_refs"),
    "threat-actor": _sdo("name", rules=(_SEEN,)),
    "tool": _sdo("name"),
    "vulnerability": _sdo("name"),
    "relationship": _sdo(
        "relationship_type",
        "source_ref",
        "target_ref",
        rules=(order("start_time", "stop_time", strict=True),),
    ),
    "sighting": _sdo("sighting_of_ref", rules=(_SEEN,)),
    "language-content": _sdo("object_ref", "contents"),
    "extension-definition": _sdo(
        "created_by_ref", "name", "schema", "version", "extension_types", rules=(extension_definition,)
    ),
    "marking-definition": _Spec(
        _MARKING_TABLE, ("spec_version", "created"), (marking_definition, selectors_resolve)
    ),
    "artifact": _sco(rules=(artifact, uuid4_only)),
    "autonomous-system": _sco("number"),
    "directory": _sco("path"),
    "domain-name": _sco("value", rules=(value_format(_DOMAIN, "a domain name"),)),
    "email-addr": _sco("value", rules=(value_format(_EMAIL, "an e-mail address"),)),
    "email-message": _sco("is_multipart", rules=(uuid4_only,)),
    "file": _sco(rules=(requires_one_of("hashes", "name"),)),
    "ipv4-addr": _sco("value", rules=(value_format(_IPV4, "an IPv4 address or CIDR block"),)),
    "ipv6-addr": _sco("value", rules=(ipv6,)),
    "mac-addr": _sco("value", rules=(value_format(_MAC, "a lower-case, colon-delimited MAC address"),)),
    "mutex": _sco("name"),
    "network-traffic": _sco("protocols", rules=(network_traffic,)),
    "process": _sco(rules=(uuid4_only, _SPECIFIC_PROPERTY)),
    "software": _sco("name"),
    "url": _sco("value", rules=(value_format(_URL, "a URL"),)),
    "user-account": _sco(rules=(uuid4_only, _SPECIFIC_PROPERTY)),
    "windows-registry-key": _sco(rules=(uuid4_only, _SPECIFIC_PROPERTY)),
    "x509-certificate": _sco(rules=(uuid4_only, _SPECIFIC_PROPERTY)),
}
_CUSTOM_OBJECT: Final = _Spec(_COMMON, _CORE, _CORE_RULES)
_NEW_SCO: Final = _Spec(
    {**_SCO_COMMON, "created": core_timestamp, "modified": core_timestamp},
    ("spec_version",),
    _CORE_RULES,
)


def _unlisted_type(obj: Mapping[str, object], t: str) -> _Spec | str:
    """A custom `x-` object [11.1] or an object of a type defined by an extension definition [7.3]."""
    if not (3 <= len(t) <= 250 and _TYPE_NAME.fullmatch(t)):
        return f"type {show(t)} is not a valid STIX type name (a-z, 0-9 and single '-', 3 to 250 characters)"
    if t in _RESERVED_TYPES:
        return f"type {t!r} cannot be used for an object"
    if t.startswith("x-"):
        return _CUSTOM_OBJECT
    declared = obj.get("extensions")  # not `extensions`: that is the property check
    if isinstance(declared, dict):
        for key, ext in declared.items():
            if isinstance(key, str) and key.startswith("extension-definition--") and isinstance(ext, dict):
                kind = ext.get("extension_type")
                if kind == "new-sco":
                    return _NEW_SCO
                if kind in ("new-sdo", "new-sro"):
                    return _CUSTOM_OBJECT
    return f"unknown object type {t!r} (custom types start with 'x-' or carry an extension definition)"


def required_properties(t: str) -> tuple[str, ...]:
    """The properties STIX 2.1 requires on an object of type `t` (custom types: the common core ones).
    Sanitisation uses it: an object that would lose one is withheld, never served invalid."""
    spec = _SPECS.get(t)
    return spec.required if spec is not None else _CORE
