"""STIX/TAXII timestamps. STIX 2.1 section 3.2: RFC 3339, UTC, upper-case `T` and `Z`, any number of
fractional digits. TAXII `date_added` values are the server's own and carry microseconds, so they are
kept as integers (microseconds since the epoch) and are exact and strictly ordered."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: object) -> tuple[datetime, str] | None:
    """(datetime to the second, fractional digits) of a STIX timestamp, or None when malformed.

    The fraction is kept as a string because STIX allows more digits than a datetime holds."""
    if not isinstance(value, str):
        return None
    m = _TIMESTAMP.match(value)
    if m is None:
        return None
    try:
        dt = datetime(*(int(g) for g in m.groups()[:6]), tzinfo=UTC)  # type: ignore[misc]
    except ValueError:  # month 13, 30 February, second 61 ...
        return None
    return dt, m.group(7) or ""


def is_timestamp(value: object) -> bool:
    return parse_timestamp(value) is not None


def version_key(value: str) -> str:
    """A fixed-width, lexicographically ordered form of a timestamp (nine fractional digits), so that
    `2020-01-01T00:00:00Z` and `2020-01-01T00:00:00.000Z` are the same version and ordering is exact to
    the nanosecond. Digits past the ninth are beyond any clock and are cut. Caller has validated."""
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError(f"not a STIX timestamp: {value!r}")
    dt, frac = parsed
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + "." + (frac + "000000000")[:9] + "Z"


def key_from_micros(micros: int) -> str:
    return format_micros(micros)[:-1] + "000Z"


def to_micros(value: str) -> int:
    """Microseconds since the epoch of a STIX timestamp (extra digits truncated)."""
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError(f"not a STIX timestamp: {value!r}")
    dt, frac = parsed
    return int((dt - _EPOCH).total_seconds()) * 1_000_000 + int((frac + "000000")[:6])


def format_micros(micros: int) -> str:
    """TAXII/STIX timestamp with microsecond precision for a microseconds-since-epoch integer."""
    seconds, fraction = divmod(micros, 1_000_000)
    dt = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{fraction:06d}Z"


def now_micros() -> int:
    delta = datetime.now(tz=UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
