"""Ledger entries: what is recorded, as canonical JSON (RFC 8785, JSON Canonicalization Scheme) so the same
entry always has the same bytes and therefore the same leaf hash (RFC 9162 2.1.1) on every machine.

An entry is `{"v": 1, "kind": ..., "at": ..., "actor": ..., <the kind's fields>}`. It holds no index: its
position is the leaf index in the log, so the content can be hashed before the append. `at` is the time the
caller gives (pure code reads no clock), an aware datetime rendered in UTC with microseconds. Only strings,
integers (|n| < 2^53, RFC 8785 3.2.2.3), lists, objects and null occur: no floats, so no number-formatting
ambiguity.

Kinds (issue 6, "What is logged"): `disclosure`, `ingest`, `policy`, `tier`, `release`, `licence`,
`screening`, `alert`, `psi_query` (sizes only, never the elements), `key_rotation` and `canary` (leak
tracing: the canaries issued to one recipient for one scope and period, as tag prefixes and the ids of the
objects carrying them, `objects[i]` carrying `tags[i]`; reference privacy_warning.md 2.2).

A disclosure records a whole response as ONE entry: `objects` is a list of
`[object id, version, sha256 hex of the exact bytes served, index into rules]`, in the order served, and
`rules` the distinct deciding rules. A 1,000-object page is one append of about 150 kB, and `served(entry)`
recovers the per-object list from the entry alone (no side table that could drift from the log).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

import orjson
import rfc8785

from gesher.ledger.errors import LedgerError
from gesher.ledger.merkle import leaf_hash

FORMAT_VERSION = 1
COMMON = ("v", "kind", "at", "actor")
AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
AT_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
MAX_SAFE = 2**53 - 1


class Kind(StrEnum):
    """What an entry records."""

    DISCLOSURE = "disclosure"
    INGEST = "ingest"
    POLICY = "policy"
    TIER = "tier"
    RELEASE = "release"
    LICENCE = "licence"
    SCREENING = "screening"
    ALERT = "alert"
    PSI_QUERY = "psi_query"
    KEY_ROTATION = "key_rotation"
    CANARY = "canary"
    ACKNOWLEDGEMENT = "acknowledgement"  # a partner acknowledged an alert (issue 7)
    ESCALATION = "escalation"  # an alert escalated: partners had not acknowledged it in time
    INCIDENT = "incident"  # a national incident opened, changed state or linked an alert (issue 7)


@dataclass(frozen=True)
class Entry:
    """One ledger entry: its kind, when (`at`, timezone-aware), who acted (`actor`: an operator, a
    partner or "system"), and the kind's `fields` (JSON values, validated against `SCHEMAS`)."""

    kind: Kind
    at: datetime
    actor: str
    fields: Mapping[str, Any]
    # Set by `make` and `decode`, which validate: `encode` then skips a second pass (a 1,000-object
    # disclosure is validated once per TAXII page, not twice).
    checked: bool = field(default=False, compare=False, repr=False)


class Served(NamedTuple):
    """One object of a disclosure: its id, its version (the STIX `modified`), the SHA-256 (hex) of the
    exact bytes served after sanitisation, and the rule that allowed it. A named tuple: a TAXII page
    builds a thousand of them."""

    object_id: str
    version: str
    sha256: str
    rule: str


# --- field checks: each returns an error message, or "" when the value is fine ----------------------------


def _text(value: Any) -> str:
    return "" if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _count(value: Any) -> str:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SAFE
    return "" if ok else "must be a non-negative integer below 2^53"


def _version(value: Any) -> str:
    return "" if not _text(value) or not _count(value) else "must be a non-empty string or an integer"


def _optional_text(value: Any) -> str:
    return "" if value is None else _text(value)


def _sha256(value: Any) -> str:
    ok = isinstance(value, str) and SHA256_HEX.fullmatch(value)
    return "" if ok else "must be a SHA-256 in lowercase hex"


def _texts(value: Any) -> str:
    ok = isinstance(value, list) and all(not _text(v) for v in value)
    return "" if ok else "must be a list of non-empty strings"


def _ingested(value: Any) -> str:
    """`[[object id, version, sha256], ...]`."""
    ok = isinstance(value, list) and all(_triple_error(v) == "" for v in value)
    return "" if ok else "must be a list of [object id, version, sha256 hex]"


def _triple_error(item: Any) -> str:
    if not isinstance(item, list) or len(item) != 3:
        return "not a triple"
    return _text(item[0]) or _text(item[1]) or _sha256(item[2])


Check = Callable[[Any], str]
SCHEMAS: dict[Kind, dict[str, Check]] = {
    Kind.DISCLOSURE: {
        "partner": _text,
        "endpoint": _text,
        "policy_version": _version,
        "rules": _texts,
        "objects": lambda v: "",  # checked with the rules, below
        "canaries": _texts,
    },
    Kind.INGEST: {"collection": _text, "source": _text, "objects": _ingested},
    Kind.POLICY: {"policy_version": _version, "sha256": _sha256, "reason": _text},
    Kind.TIER: {"subject": _text, "old": _optional_text, "new": _text, "reason": _text},
    Kind.RELEASE: {"object_id": _text, "version": _text, "decision": _text, "reason": _text},
    Kind.LICENCE: {"subject": _text, "decision": _text, "reason": _text},
    Kind.SCREENING: {"subject": _text, "result": _text, "list_version": _text},
    Kind.ALERT: {"alert": _text, "level": _text, "organisations": _count},
    Kind.PSI_QUERY: {"partner": _text, "mode": _text, "client_size": _count, "server_size": _count},
    Kind.KEY_ROTATION: {"old_key": _optional_text, "new_key": _text, "reason": _text},
    Kind.CANARY: {"recipient": _text, "scope": _text, "period": _text, "tags": _texts, "objects": _texts},
    Kind.ACKNOWLEDGEMENT: {"alert": _text, "partner": _text},
    Kind.ESCALATION: {"alert": _text, "stage": _count, "pending": _texts},
    Kind.INCIDENT: {
        "incident": _count,
        "action": _text,
        "state": _text,
        "level": _count,
        "reason": _text,
        "alert": _optional_text,
    },
}
OPTIONAL: dict[Kind, frozenset[str]] = {Kind.DISCLOSURE: frozenset({"canaries"})}


def make(kind: Kind | str, at: datetime, actor: str, **fields: Any) -> Entry:
    """Build and validate an entry of any kind; raises `LedgerError` naming the first bad field."""
    entry = Entry(_kind(kind), _aware(at), actor, dict(fields))
    validate(entry)
    return replace(entry, checked=True)


def disclosure(
    at: datetime,
    actor: str,
    *,
    partner: str,
    endpoint: str,
    policy_version: str | int,
    served: Sequence[Served],
    canaries: Sequence[str] = (),
) -> Entry:
    """One entry for one whole response to `partner` at `endpoint`: every object served with the hash of
    its exact bytes and its deciding rule (rules are listed once and referred to by index)."""
    rules = sorted({s.rule for s in served})
    position = {rule: i for i, rule in enumerate(rules)}
    objects = [[s.object_id, s.version, s.sha256, position[s.rule]] for s in served]
    fields: dict[str, Any] = {"partner": partner, "endpoint": endpoint, "policy_version": policy_version}
    fields |= {"rules": rules, "objects": objects}
    if canaries:
        fields["canaries"] = list(canaries)
    return make(Kind.DISCLOSURE, at, actor, **fields)


def served(entry: Entry) -> tuple[Served, ...]:
    """The per-object list of a disclosure entry, in the order served."""
    if entry.kind is not Kind.DISCLOSURE:
        raise LedgerError("not-a-disclosure", f"a {entry.kind} entry lists no served objects")
    rules = entry.fields["rules"]
    return tuple(Served(o, v, h, rules[r]) for o, v, h, r in entry.fields["objects"])


def validate(entry: Entry) -> None:
    """Check an entry against its kind's schema: every field present (except the optional ones), none
    unknown, each of the right type. Raises `LedgerError("bad-entry", ...)` naming the field."""
    if not isinstance(entry.actor, str) or not entry.actor.strip():
        raise LedgerError("bad-entry", "the actor must be a non-empty string")
    schema = SCHEMAS[entry.kind]
    unknown = sorted(set(entry.fields) - set(schema))
    if unknown:
        raise LedgerError("bad-entry", f"a {entry.kind} entry has unknown fields {unknown}")
    for name, check in schema.items():
        if name not in entry.fields:
            if name in OPTIONAL.get(entry.kind, ()):
                continue
            raise LedgerError("bad-entry", f"a {entry.kind} entry needs the field {name!r}")
        if error := check(entry.fields[name]):
            raise LedgerError("bad-entry", f"{entry.kind} field {name!r} {error}")
    if entry.kind is Kind.DISCLOSURE:
        _check_served(entry.fields["objects"], len(entry.fields["rules"]))


def _check_served(objects: Any, rule_count: int) -> None:
    """Disclosure objects are `[id, version, sha256 hex, rule index]` with a valid rule index. Inlined
    checks (no call per value): this runs for every object of every page served."""
    if not isinstance(objects, list):
        raise LedgerError("bad-entry", "disclosure field 'objects' must be a list")
    for i, item in enumerate(objects):
        if not (type(item) is list and len(item) == 4 and _served_ok(*item[:4], rule_count=rule_count)):
            raise LedgerError(
                "bad-entry", f"disclosure object {i} must be [id, version, sha256 hex, rule index]"
            )


def _served_ok(object_id: Any, version: Any, sha256: Any, rule: Any, *, rule_count: int) -> bool:
    texts = type(object_id) is str and type(version) is str and object_id.strip() and version.strip()
    digest = type(sha256) is str and len(sha256) == 64 and SHA256_HEX.fullmatch(sha256) is not None
    return bool(texts and digest and type(rule) is int and 0 <= rule < rule_count)


def encode(entry: Entry) -> bytes:
    """The canonical bytes of an entry (RFC 8785): the content of its Merkle leaf."""
    if not entry.checked:
        validate(entry)
    return _encode_valid(entry)


def _encode_valid(entry: Entry, at_text: str | None = None) -> bytes:
    """`encode` for an entry that passed `validate`: it then holds only non-empty strings, safe integers
    and lists of them under ASCII keys, which orjson with sorted keys writes exactly as RFC 8785 does (see
    `canonical`), so the per-value check is skipped (it was a quarter of `decode`'s cost)."""
    document = {
        "v": FORMAT_VERSION,
        "kind": entry.kind.value,
        "at": at_text or format_at(entry.at),
        "actor": entry.actor,
    }
    try:
        return orjson.dumps(document | dict(entry.fields), option=orjson.OPT_SORT_KEYS)
    except (UnicodeEncodeError, orjson.JSONEncodeError) as error:
        raise LedgerError("bad-entry", f"the entry cannot be canonicalised: {error}") from None


# RFC 8785 numbers are ECMAScript doubles: safe integers (below 2**53) print as orjson prints them.
_SAFE_INTEGER = 2**53 - 1


def canonical(document: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of a JSON document. For what ledger entries hold (ASCII keys, strings, safe integers,
    booleans, null, lists, objects), orjson with sorted keys writes exactly those bytes (same string
    escapes, UTF-8 as is, keys in code-unit order since they are ASCII) at a fraction of the pure-Python
    `rfc8785`'s cost; anything else goes through `rfc8785`. A property test holds the two to each other."""
    if _plain(document):
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return rfc8785.dumps(document)


def _plain(value: Any) -> bool:
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    return False


def entry_leaf_hash(entry: Entry) -> bytes:
    """The Merkle leaf hash of an entry: `SHA-256(0x00 || encode(entry))` (RFC 9162 2.1.1)."""
    return leaf_hash(encode(entry))


def decode(data: bytes) -> Entry:
    """Parse and validate an entry's bytes. They must be exactly the canonical encoding (RFC 8785) of what
    they contain, so two different byte strings never stand for the same entry. Raises `LedgerError`."""
    document = _parse(data)
    fields = {k: v for k, v in document.items() if k not in COMMON}
    entry = Entry(
        _kind(document.get("kind")), _parse_at(document.get("at")), document.get("actor", ""), fields
    )
    validate(entry)
    entry = replace(entry, checked=True)
    if document.get("v") != FORMAT_VERSION:
        raise LedgerError("bad-entry", f"unknown entry format version {document.get('v')!r}")
    # `at` passed its exact pattern and parsed, so it is what format_at would write: reuse it.
    if _encode_valid(entry, document["at"]) != data:
        raise LedgerError("not-canonical", "the entry bytes are not in RFC 8785 canonical form")
    return entry


def _parse(data: bytes) -> dict[str, Any]:
    """orjson, strict UTF-8. It reads a float where entries hold none, but validation then refuses it,
    and the canonical re-encoding check refuses anything else it reads loosely (duplicate keys, number
    spellings, escapes): decoding stays exact at a tenth of the standard parser's cost."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise LedgerError("bad-entry", f"the entry is not valid UTF-8 JSON: {error}") from None
    if not isinstance(document, dict):
        raise LedgerError("bad-entry", "an entry must be a JSON object")
    return document


def _kind(value: Any) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise LedgerError("bad-entry", f"unknown entry kind {value!r}") from None


def _aware(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise LedgerError("bad-entry", "an entry's time must be a timezone-aware datetime")
    return at.astimezone(UTC)


def format_at(at: datetime) -> str:
    """An entry time as RFC 3339 in UTC with microseconds, e.g. `2026-11-23T09:15:00.000000Z`."""
    return _aware(at).strftime(AT_FORMAT)


def _parse_at(value: Any) -> datetime:
    if not isinstance(value, str) or not AT_PATTERN.fullmatch(value):
        raise LedgerError("bad-entry", f"'at' must look like 2026-11-23T09:15:00.000000Z, not {value!r}")
    try:  # the pattern above fixed the shape; fromisoformat reads it ten times faster than strptime
        return datetime.fromisoformat(value)
    except ValueError:
        raise LedgerError("bad-entry", f"'at' is not a valid time: {value!r}") from None
