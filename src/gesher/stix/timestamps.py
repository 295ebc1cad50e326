"""STIX/TAXII timestamps. STIX 2.1 section 3.2: RFC 3339, UTC, upper-case `T` and `Z`, any number of
fractional digits. TAXII `date_added` values are the server's own and carry microseconds, so they are
kept as integers (microseconds since the epoch) and are exact and strictly ordered."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ASCII digits only, field ranges in the pattern, nothing after the `Z` (use fullmatch; `$` would accept a
# trailing newline). The calendar (30 February, 31 April) is checked in timestamp_order_key.
TIMESTAMP_SHAPE = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?Z"
)
_THIRTY_DAY_MONTHS = frozenset({"04", "06", "09", "11"})


def parse_timestamp(value: object) -> tuple[datetime, str] | None:
    """(datetime to the second, fractional digits) of a STIX timestamp, or None when malformed.

    The fraction is kept as a string because STIX allows more digits than a datetime holds."""
    if timestamp_order_key(value) is None:
        return None
    assert isinstance(value, str)
    year, month, day = int(value[0:4]), int(value[5:7]), int(value[8:10])
    hour, minute, second = int(value[11:13]), int(value[14:16]), int(value[17:19])
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC), value[20:-1]


def is_timestamp(value: object) -> bool:
    return timestamp_order_key(value) is not None


def version_key(value: str) -> str:
    """A fixed-width, lexicographically ordered form of a timestamp (nine fractional digits), so that
    `2020-01-01T00:00:00Z` and `2020-01-01T00:00:00.000Z` are the same version and ordering is exact to
    the nanosecond. Digits past the ninth are beyond any clock and are cut. Built from the string, not a
    datetime: it runs once per ingested object."""
    if timestamp_order_key(value) is None:
        raise ValueError(f"not a STIX timestamp: {value!r}")
    return value[:19] + "." + (value[20:-1] + "000000000")[:9] + "Z"


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


def timestamp_order_key(value: object) -> str | None:
    """A string whose lexicographic order is the exact chronological order of STIX timestamps (every
    fractional digit counts, `.5` equals `.500`), or None when `value` is not a STIX timestamp.

    Every other check of a timestamp builds on this one. It builds no datetime, so validation of objects
    with several timestamps stays cheap (STIX 2.1 section 3.2)."""
    if not isinstance(value, str) or TIMESTAMP_SHAPE.fullmatch(value) is None:
        return None
    # Fixed positions from here on: YYYY-MM-DDTHH:MM:SS[.fraction]Z
    day = value[8:10]
    if day > "28":
        month = value[5:7]
        if month == "02":
            y = int(value[:4])
            if day != "29" or not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
                return None
        elif day == "31" and month in _THIRTY_DAY_MONTHS:
            return None
    if value.startswith("0000"):  # datetime.MINYEAR is 1
        return None
    return value[:19] + value[20:-1].rstrip("0")
