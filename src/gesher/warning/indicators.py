"""Match keys of STIX 2.1 indicators: which observed values an indicator's pattern names (issue 7,
"Correlation": simple equality patterns matched by value, other patterns evaluated properly).

A pattern is matched **by value** when it is one or more observation expressions joined by `OR`, each a
bracketed list of equality comparisons joined by `OR`, on a property that holds an observed value:

    [domain-name:value = 'evil.example']      [ipv4-addr:value = '198.51.100.7']
    [url:value = 'http://evil.example/x'] OR [email-addr:value = 'a@evil.example']
    [file:hashes.'SHA-256' = 'AB12...' OR file:hashes.MD5 = 'cd34...']

Its keys are those values in normal form (`gesher.warning.values`), so the matching engine finds them
with a hash join. Anything else (`AND`, `LIKE`, `MATCHES`, `ISSUBSET`, `!=`, qualifiers such as `WITHIN`,
other properties, networks in CIDR notation, patterns the OASIS validator refuses) is marked for
**evaluation**: `PatternEvaluator` runs the OASIS reference matcher (`stix2-matcher`, which implements
the whole STIX 2.1 patterning language) on an observation presented as observed-data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from gesher.stix.patterns import pattern_error
from gesher.warning.observations import Observation
from gesher.warning.values import ValueType, normalise

_WS: Final = r"[ \t\r\n]"
_STRING: Final = r"'((?:[^'\\]|\\['\\])*)'"
_HASH_NAME: Final = r"(?:MD5|'MD5'|'SHA-1'|SHA1|'SHA1'|'SHA-256'|SHA256|'SHA256'|'SHA-512'|SHA512|'SHA512')"
_PATH: Final = (
    r"(domain-name|ipv4-addr|ipv6-addr|url|email-addr):value"
    rf"|(file):hashes\.({_HASH_NAME})"
)
_COMPARISON: Final = rf"(?:{_PATH}){_WS}*={_WS}*{_STRING}"
_OBSERVATION: Final = rf"\[{_WS}*{_COMPARISON}(?:{_WS}+OR{_WS}+{_COMPARISON})*{_WS}*\]"
_EQUALITIES = re.compile(rf"{_WS}*{_OBSERVATION}(?:{_WS}+OR{_WS}+{_OBSERVATION})*{_WS}*")
_ONE = re.compile(_COMPARISON)
HASH_TYPES: Final[dict[str, ValueType]] = {
    "MD5": ValueType.MD5,
    "SHA-1": ValueType.SHA1,
    "SHA1": ValueType.SHA1,
    "SHA-256": ValueType.SHA256,
    "SHA256": ValueType.SHA256,
    "SHA-512": ValueType.SHA512,
    "SHA512": ValueType.SHA512,
}
STIX_HASH_NAMES: Final[dict[ValueType, str]] = {
    ValueType.MD5: "MD5",
    ValueType.SHA1: "SHA-1",
    ValueType.SHA256: "SHA-256",
    ValueType.SHA512: "SHA-512",
}


@dataclass(frozen=True, order=True)
class MatchKey:
    """A value an indicator names, in normal form; `str()` gives the token `type:value`."""

    type: ValueType
    value: str

    def __str__(self) -> str:
        return f"{self.type.value}:{self.value}"


@dataclass(frozen=True)
class Derivation:
    """What a pattern gives the matcher: its keys (matched by value), or `evaluate` with the reason why it
    must be evaluated instead."""

    keys: tuple[MatchKey, ...]
    evaluate: bool
    reason: str


def match_keys(pattern: str) -> Derivation:
    """The values `pattern` matches by equality, or a Derivation marked `evaluate` (with the reason) when
    it is not a plain OR of equalities on observed values."""
    if not _EQUALITIES.fullmatch(pattern):
        return Derivation((), True, "not an OR of equality comparisons on observed values")
    if (error := pattern_error(pattern)) is not None:
        return Derivation((), True, f"the pattern is not valid STIX 2.1 ({error})")
    keys: list[MatchKey] = []
    for m in _ONE.finditer(pattern):
        literal = m.group(4).replace("\\'", "'").replace("\\\\", "\\")
        kind = ValueType(m.group(1)) if m.group(1) else HASH_TYPES[m.group(3).strip("'")]
        try:
            normal = normalise(literal, kind)
        except ValueError as exc:
            return Derivation((), True, f"{exc}: compared as written, so evaluated")
        keys.append(MatchKey(normal.type, normal.value))
    return Derivation(
        tuple(dict.fromkeys(keys)), False, f"{len(keys)} equality comparison(s) matched by value"
    )


def observed_data(observation: Observation) -> dict[str, Any]:
    """An observation as a STIX 2.1 bundle of one observed-data object and its cyber-observable, the input
    the reference matcher takes."""
    stamp = _stamp(observation.time)
    sco: dict[str, Any] = {"id": "x--00000000-0000-4000-8000-000000000001"}
    if observation.type in STIX_HASH_NAMES:
        sco |= {"type": "file", "hashes": {STIX_HASH_NAMES[observation.type]: observation.value}}
    else:
        sco |= {"type": observation.type.value, "value": observation.value}
    sco["id"] = sco["type"] + sco["id"][1:]
    container = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--00000000-0000-4000-8000-000000000000",
        "created": stamp,
        "modified": stamp,
        "first_observed": stamp,
        "last_observed": stamp,
        "number_observed": observation.count,
        "object_refs": [sco["id"]],
    }
    return {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000000",
        "objects": [container, sco],
    }


class PatternEvaluator:
    """A compiled pattern, evaluated on observations with the OASIS reference matcher (`stix2-matcher`).
    About ten thousand evaluations a second: use it for the patterns `match_keys` marks `evaluate`, after
    narrowing by object type (`object_types`)."""

    def __init__(self, pattern: str) -> None:
        from stix2matcher.matcher import Pattern  # imported late: ANTLR start-up is not free

        self.pattern = pattern
        self._compiled: Any = Pattern(pattern, stix_version="2.1")
        self._match: Callable[[list[dict[str, Any]]], list[Any]] = self._compiled.match

    def object_types(self) -> set[str]:
        """The cyber-observable types the pattern compares (an observation of another type cannot match)."""
        from stix2patterns.v21.pattern import Pattern

        return set(Pattern(self.pattern).inspect().comparisons)

    def matches(self, observation: Observation) -> bool:
        """True if the pattern matches this one observation."""
        return bool(self._match([observed_data(observation)]))


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
