"""TAXII 2.1 URL filters (section 3.4): parsed strictly, with limits that keep hostile values cheap."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from gesher.errors import InvalidRequest
from gesher.stix.timestamps import is_timestamp, to_micros, version_key

MAX_MATCH_VALUES = 100
# Used with fullmatch: `$` would also accept a trailing newline.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]--" + _UUID.pattern)
_TYPE = re.compile(r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]")
_SPEC_VERSION = re.compile(r"[0-9]\.[0-9]")
_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII only: str.isdigit() also accepts '²', which int() refuses


@dataclass(frozen=True)
class Versions:
    latest: bool = True
    first: bool = False
    every: bool = False
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaxiiQuery:
    """The filters of one request. `limit` and `next` are paging, not filtering."""

    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: Versions = field(default_factory=Versions)
    spec_versions: tuple[str, ...] = ()
    limit: int | None = None
    next: str | None = None

    def filter_digest_source(self) -> bytes:
        """Canonical text of the filters, bound into `next` so a cursor is used with the same query."""
        v = self.versions
        parts = [
            str(self.added_after),
            ",".join(self.ids),
            ",".join(self.types),
            f"{v.latest}{v.first}{v.every}" + ",".join(v.keys),
            ",".join(self.spec_versions),
        ]
        return "|".join(parts).encode()


def _values(params: Mapping[str, str], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    values = [v.strip() for v in raw.split(",")]
    if len(values) > MAX_MATCH_VALUES:
        raise InvalidRequest(f"{name} takes at most {MAX_MATCH_VALUES} values")
    if any(not v for v in values):
        raise InvalidRequest(f"{name} has an empty value")
    return values


def _checked(params: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    values = _values(params, name)
    for value in values:
        if not pattern.fullmatch(value):
            raise InvalidRequest(f"{name}: {value[:100]!r} is not a valid {what}")
    return tuple(dict.fromkeys(values))


def _versions(params: Mapping[str, str]) -> Versions:
    values = _values(params, "match[version]")
    if not values:
        return Versions()
    keys = []
    for value in values:
        if value not in {"first", "last", "all"} and not is_timestamp(value):
            raise InvalidRequest(f"match[version]: {value[:100]!r} is not first, last, all or a timestamp")
        if is_timestamp(value):
            keys.append(version_key(value))
    return Versions("last" in values, "first" in values, "all" in values, tuple(keys))


def _limit(params: Mapping[str, str]) -> int | None:
    raw = params.get("limit")
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw) or int(raw) < 1:
        raise InvalidRequest(f"limit must be a positive integer (got {raw[:30]!r})")
    return int(raw)


def _added_after(params: Mapping[str, str]) -> int | None:
    raw = params.get("added_after")
    if raw is None:
        return None
    if not is_timestamp(raw):
        raise InvalidRequest(f"added_after: {raw[:100]!r} is not a timestamp like 2024-01-31T12:00:00.000Z")
    return to_micros(raw)


def is_uuid(value: str) -> bool:
    """Collection and status ids are lower-case UUIDs; anything else cannot exist (and must never reach SQL:
    PostgreSQL refuses NUL bytes in text)."""
    return _UUID.fullmatch(value) is not None


def is_stix_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None


def parse_query(params: Mapping[str, str]) -> TaxiiQuery:
    next_token = params.get("next")
    if next_token is not None and (not next_token or len(next_token) > 1024):
        raise InvalidRequest("next is not a token this server issued")
    return TaxiiQuery(
        added_after=_added_after(params),
        ids=_checked(params, "match[id]", _ID, "STIX identifier"),
        types=_checked(params, "match[type]", _TYPE, "STIX type"),
        versions=_versions(params),
        spec_versions=_checked(params, "match[spec_version]", _SPEC_VERSION, "spec version"),
        limit=_limit(params),
        next=next_token,
    )
