"""The property checks of STIX 2.1 validation: `(name, value) -> None or a reason`, one per kind of
property value (strings, timestamps, identifiers, references of given types, markings, extensions, ...),
plus `id_error` for `id` and `custom_property` for properties a type does not define. `validate` pairs
them with property names in its tables. They run on every property of every object, so they use
precompiled regular expressions and no datetime objects on the fast path; `show` renders a value for a
reason (the rules use it too).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Final

from gesher.stix.timestamps import TIMESTAMP_SHAPE, timestamp_order_key

Check = Callable[[str, object], str | None]

_UUID: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_ID_TAIL = re.compile("--" + _UUID)
_IDENTIFIER = re.compile(rf"(?=[a-z0-9-]{{3,250}}--)[a-z][a-z0-9]*(?:-[a-z0-9]+)*--{_UUID}")
_PROPERTY_NAME = re.compile(r"[a-z0-9_]{3,250}")
_EXTENSION_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*-ext")
_SELECTOR = re.compile(r"[a-z0-9_-]{3,249}(?:\.(?:\[[0-9]+\]|[a-z0-9_-]{1,250}))*|id")
_RELATIONSHIP_TYPE = re.compile(r"[a-z0-9-]+")
# RFC 5646 language tag syntax (its ABNF, without grandfathered tags).
_LANGUAGE_TAG = re.compile(
    r"(?:[a-zA-Z]{2,3}(?:-[a-zA-Z]{3}){0,3}|[a-zA-Z]{4,8})(?:-[a-zA-Z]{4})?(?:-(?:[a-zA-Z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*(?:-[0-9a-wyzA-WYZ](?:-[a-zA-Z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-zA-Z0-9]{1,8})+)?|x(?:-[a-zA-Z0-9]{1,8})+"
)
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w!#$&^.+-]*/[A-Za-z0-9][\w!#$&^.+-]*", re.ASCII)  # RFC 6838 shape
_HEX = re.compile(r"(?:[a-fA-F0-9]{2})+")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)")
_HASH_FORMATS: Final = {  # the hash-algorithm-ov values whose format the OASIS schema pins down
    "MD5": re.compile(r"[a-fA-F0-9]{32}"),
    "SHA-1": re.compile(r"[a-fA-F0-9]{40}"),
    "SHA-256": re.compile(r"[a-fA-F0-9]{64}"),
    "SHA-512": re.compile(r"[a-fA-F0-9]{128}"),
    "SHA3-256": re.compile(r"[a-fA-F0-9]{64}"),
    "SHA3-512": re.compile(r"[a-fA-F0-9]{128}"),
    "SSDEEP": re.compile(r"[a-zA-Z0-9/+:.]{1,128}"),
    "TLSH": re.compile(r"[a-zA-Z0-9]{70}"),
}
_EXTERNAL_IDS: Final = {
    "cve": re.compile(r"CVE-[0-9]{4}-(?:0[0-9]{3}|[1-9][0-9]{3,})"),
    "capec": re.compile(r"CAPEC-[0-9]+"),
}
_EXTENSION_TYPES: Final = frozenset(
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)


def show(value: object) -> str:
    """A short rendering of a value for a reason: scalars as `repr` (cut), containers by kind only (their
    repr could be huge or, nested deep enough, raise RecursionError)."""
    if isinstance(value, str):
        text = repr(value[:58])
        return text if len(value) <= 58 else text[:-1] + "...'"
    if value is None or isinstance(value, bool | int | float):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, list):
        return "a list"
    return "a JSON object" if isinstance(value, dict) else f"a {type(value).__name__}"


def id_error(t: str, oid: object) -> str | None:
    if isinstance(oid, str) and oid.startswith(t) and _ID_TAIL.fullmatch(oid, len(t)):
        return None
    if isinstance(oid, str) and _IDENTIFIER.fullmatch(oid):
        return f"id type part {oid.partition('--')[0]!r} does not match type {t!r}"
    return f"id {show(oid)} is not a STIX identifier (<type>--<RFC 4122 UUID in lower case>)"


def custom_property(name: object, value: object) -> str | None:
    """A property the object's type does not define: name rules, and the suffix conventions."""
    kind = _custom_name_kind(name)
    if kind is None:
        return f"invalid property name {show(name)} (a-z, 0-9 and '_', 3 to 250 characters)"
    if value is None:
        return f"{name}: null is not a STIX value (omit the property)"
    if kind == "":
        if isinstance(value, list) and not value:
            return f"{name}: empty lists are not allowed (omit the property)"
        return None
    assert isinstance(name, str)
    if kind == "_ref":
        # MITRE ATT&CK ships `x_mitre_data_source_ref: ""`: an empty custom reference means "none".
        return None if value == "" and name.startswith("x_") else _identifier(name, value)
    if kind == "_refs":
        return identifiers(name, value)
    if kind == "_hex":
        return None if isinstance(value, str) and _HEX.fullmatch(value) else f"{name} must be a hex string"
    return None if isinstance(value, str) and _BASE64.fullmatch(value) else f"{name} must be base64"


@functools.lru_cache(maxsize=4096)  # custom names repeat (x_mitre_*); bounded, and a pure function
def _custom_name_kind(name: object) -> str | None:
    """None for an invalid property name, else its meaningful suffix ('_ref', '_refs', '_hex', '_bin')
    or ''."""
    if not isinstance(name, str) or not _PROPERTY_NAME.fullmatch(name):
        return None
    return next((suffix for suffix in ("_ref", "_refs", "_hex", "_bin") if name.endswith(suffix)), "")


def accept(name: str, value: object) -> str | None:
    return None


def reserved(name: str, value: object) -> str | None:
    return f"{name!r} is a reserved property name"


def string(name: str, value: object) -> str | None:
    return None if isinstance(value, str) else f"{name} must be a string"


def nonempty_string(name: str, value: object) -> str | None:
    return None if isinstance(value, str) and value else f"{name} must be a non-empty string"


def boolean(name: str, value: object) -> str | None:
    return None if isinstance(value, bool) else f"{name} must be true or false"


def language(name: str, value: object) -> str | None:
    if isinstance(value, str) and _LANGUAGE_TAG.fullmatch(value):
        return None
    return f"{name} must be an RFC 5646 language tag, not {show(value)}"


def media_type(name: str, value: object) -> str | None:
    if isinstance(value, str) and _MEDIA_TYPE.fullmatch(value):
        return None
    return f"{name} must be a media type (type/subtype), not {show(value)}"


def dictionary(name: str, value: object) -> str | None:
    return None if isinstance(value, dict) and value else f"{name} must be a non-empty JSON object"


def strings(name: str, value: object) -> str | None:
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return None
    return f"{name} must be a non-empty list of strings"


def timestamp(name: str, value: object) -> str | None:
    # Fast path: the format alone settles it unless the day is past the 28th or the year is 0000.
    if (
        isinstance(value, str)
        and TIMESTAMP_SHAPE.fullmatch(value)
        and value[8:10] <= "28"
        and value[:4] != "0000"
    ):
        return None
    if timestamp_order_key(value) is None:
        return f"{name} {show(value)} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)"
    return None


def core_timestamp(name: str, value: object) -> str | None:
    """`created` and `modified`: a timestamp precise to the millisecond or finer [3.2]."""
    reason = timestamp(name, value)
    if reason is None and isinstance(value, str) and len(value) < 24:
        return f"{name} must be precise to the millisecond (e.g. 2024-01-31T12:00:00.000Z)"
    return reason


def _identifier(name: str, value: object) -> str | None:
    if isinstance(value, str) and _IDENTIFIER.fullmatch(value):
        return None
    return f"{name}: {show(value)} is not a STIX identifier"


def identifiers(name: str, value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return f"{name} must be a non-empty list of STIX identifiers"
    for v in value:
        if not (isinstance(v, str) and _IDENTIFIER.fullmatch(v)):
            return f"{name}: {show(v)} is not a STIX identifier"
    return None


def int_range(low: int, high: int) -> Check:
    def check(name: str, value: object) -> str | None:
        if type(value) is int and low <= value <= high:
            return None
        return f"{name} must be an integer from {low:,} to {high:,}"

    return check


def number_range(low: float, high: float) -> Check:
    def check(name: str, value: object) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
            return None
        return f"{name} must be a number from {low} to {high}"

    return check


def ref_of(*types: str) -> Check:
    """An identifier whose type part is one of `types`."""

    def check(name: str, value: object) -> str | None:
        reason = _identifier(name, value)
        if reason is None and str(value).partition("--")[0] not in types:
            return f"{name} must point at {' or '.join(types)}, not {show(value)}"
        return reason

    return check


def refs_of(*types: str) -> Check:
    single = ref_of(*types)

    def check(name: str, value: object) -> str | None:
        if not isinstance(value, list) or not value:
            return f"{name} must be a non-empty list of STIX identifiers"
        for v in value:
            reason = single(name, v)
            if reason is not None:
                return reason
        return None

    return check


def ref_not(*types: str) -> Check:
    def check(name: str, value: object) -> str | None:
        reason = _identifier(name, value)
        if reason is None and str(value).partition("--")[0] in types:
            return f"{name} must not point at a {str(value).partition('--')[0]!r} object"
        return reason

    return check


def enum(values: frozenset[str]) -> Check:
    def check(name: str, value: object) -> str | None:
        if isinstance(value, str) and value in values:
            return None
        return f"{name} must be one of {', '.join(sorted(values))}"

    return check


def spec_version(name: str, value: object) -> str | None:
    if value == "2.1":
        return None
    if value == "2.0":
        return "spec_version '2.0': STIX 2.0 content is not accepted"
    return f"spec_version must be '2.1', not {show(value)}"


def relationship_type(name: str, value: object) -> str | None:
    if isinstance(value, str) and _RELATIONSHIP_TYPE.fullmatch(value):
        return None
    return "relationship_type must use only a-z, 0-9 and '-'"


def hashes(name: str, value: object) -> str | None:
    """Keys are free-form (hash-algorithm-ov or custom); known algorithms must look like themselves."""
    if not isinstance(value, dict) or not value:
        return f"{name} must be a non-empty JSON object"
    for algorithm, digest in value.items():
        if not isinstance(digest, str):
            return f"{name}: the {show(algorithm)} value must be a string"
        fmt = _HASH_FORMATS.get(algorithm)
        if fmt is not None and not fmt.fullmatch(digest):
            return f"{name}: {show(digest)} is not a valid {algorithm} value"
    return None


def kill_chain_phases(name: str, value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return f"{name} must be a non-empty list"
    for phase in value:
        if not (
            isinstance(phase, dict)
            and isinstance(phase.get("kill_chain_name"), str)
            and isinstance(phase.get("phase_name"), str)
        ):
            return f"{name}: each phase needs kill_chain_name and phase_name (strings)"
    return None


def external_references(name: str, value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return f"{name} must be a non-empty list"
    for ref in value:
        reason = _external_reference(ref)
        if reason is not None:
            return f"{name}: {reason}"
    return None


def _external_reference(ref: object) -> str | None:
    """STIX 2.1 section 2.5: source_name, plus at least one of description, url, external_id."""
    if not isinstance(ref, dict):
        return "each external reference must be a JSON object"
    source = ref.get("source_name")
    if not isinstance(source, str):
        return "source_name is required and must be a string"
    if "description" not in ref and "url" not in ref and "external_id" not in ref:
        return f"{show(source)} needs at least one of description, url, external_id"
    for key in ("description", "url", "external_id"):
        if key in ref and not isinstance(ref[key], str):
            return f"{key} must be a string"
    id_format = _EXTERNAL_IDS.get(source)
    if id_format is not None and not (
        isinstance(ref.get("external_id"), str) and id_format.fullmatch(ref["external_id"])
    ):
        return f"a {source!r} reference needs a well-formed external_id"
    return hashes("hashes", ref["hashes"]) if "hashes" in ref else None


def granular_markings(name: str, value: object) -> str | None:
    """STIX 2.1 section 7.2.3: selectors, and exactly one of marking_ref and lang. Whether the
    selectors point into the object is the `rules.selectors_resolve` rule."""
    if not isinstance(value, list) or not value:
        return f"{name} must be a non-empty list"
    for marking in value:
        if not isinstance(marking, dict):
            return f"{name}: each granular marking must be a JSON object"
        selectors = marking.get("selectors")
        if not isinstance(selectors, list) or not selectors:
            return f"{name}: selectors must be a non-empty list"
        for selector in selectors:
            if not (isinstance(selector, str) and _SELECTOR.fullmatch(selector)):
                return f"{name}: {show(selector)} is not a valid selector"
        if ("marking_ref" in marking) == ("lang" in marking):
            return f"{name}: each granular marking needs exactly one of marking_ref and lang"
        if "marking_ref" in marking:
            reason = _MARKING_REF("marking_ref", marking["marking_ref"])
            if reason is not None:
                return f"{name}: {reason}"
        else:
            reason = language("lang", marking["lang"])
            if reason is not None:
                return f"{name}: {reason}"
    return None


def extensions(name: str, value: object) -> str | None:
    """STIX 2.1 section 7.3: keys are extension-definition ids or predefined `*-ext` names."""
    if not isinstance(value, dict) or not value:
        return f"{name} must be a non-empty JSON object"
    for key, ext in value.items():
        if not isinstance(key, str):
            return f"{name}: keys must be strings"
        if key.startswith("extension-definition--"):
            if not _ID_TAIL.fullmatch(key, 20):
                return f"{name}: {show(key)} is not an extension-definition identifier"
            kind = ext.get("extension_type") if isinstance(ext, dict) else None
            if not (isinstance(kind, str) and kind in _EXTENSION_TYPES):
                return f"{name}: {key} needs an extension_type ({', '.join(sorted(_EXTENSION_TYPES))})"
        elif _EXTENSION_NAME.fullmatch(key):
            if not isinstance(ext, dict) or not ext:
                return f"{name}: {key} must be a non-empty JSON object"
        else:
            return f"{name}: {show(key)} is neither an extension-definition id nor a '-ext' name"
    return None


def extension_types(name: str, value: object) -> str | None:
    if isinstance(value, list) and value and all(isinstance(v, str) and v in _EXTENSION_TYPES for v in value):
        return None
    return f"{name} must be a non-empty list from {', '.join(sorted(_EXTENSION_TYPES))}"


def language_contents(name: str, value: object) -> str | None:
    """STIX 2.1 section 7.1: language code -> {property name -> translation}."""
    if not isinstance(value, dict) or not value:
        return f"{name} must be a non-empty JSON object"
    for lang, translations in value.items():
        if not _LANGUAGE_TAG.fullmatch(lang):
            return f"{name}: {show(lang)} is not an RFC 5646 language tag"
        if not isinstance(translations, dict) or not translations:
            return f"{name}: {show(lang)} must map to a non-empty JSON object"
        for key in translations:
            if not (isinstance(key, str) and _PROPERTY_NAME.fullmatch(key)):
                return f"{name}: {show(key)} is not a property name"
    return None


_MARKING_REF: Final = ref_of("marking-definition")
