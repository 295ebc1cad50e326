"""Bulk observation files: what a sensor or SIEM export gives, one observed value per line (issue 7,
"Sightings in").

Two formats, UTF-8:

- CSV with a header line naming the columns: `value` and `time` are required; `type`, `count` and
  `sighting` are optional; other columns are ignored (an export carries many). Standard CSV quoting
  (`"a,b"`, `""` for a quote); one record per line.
- JSON lines: one JSON object per line with the same keys; other keys are ignored.

Fields:

- `value`: the observed value, normalised by `gesher.warning.values` (domains lower-cased, trailing dot
  dropped, IP addresses canonical, hashes lower-case hex, URLs as given);
- `time`: RFC 3339 with `T` and a zone (`2026-11-23T09:15:00Z`, `...09:15:00.123+02:00`; fractions beyond
  microseconds are truncated), or Unix epoch seconds (`1763889300`, `1763889300.5`; in JSON also a
  number). Times before 1970 are refused (a reset sensor clock, not an observation), and so are times more
  than the clock-skew tolerance (`Limits.clock_skew`) after the `now` the caller passes;
- `type`: declared type, see `values.TYPE_NAMES`; empty or absent: classified by the value's shape;
- `count`: how many times it was seen, 1 to 999,999,999 (default 1);
- `sighting`: `0`/`sighting` (default), `1`/`false-positive`, `2`/`expiration`, as MISP's sighting types.

A file is taken whole or not at all: every line is checked, every problem is reported as `line N:
reason` (up to `Limits.max_errors`, with the total), and if there is any, `ObservationError` refuses
the file. Blank lines are skipped.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum, StrEnum
from typing import Final

import orjson

from gesher.warning.errors import LineError, ObservationError
from gesher.warning.values import BLANKS, ValueType, normalise, type_name


class SightingType(IntEnum):
    """MISP's sighting types: 0 sighting, 1 false positive, 2 expiration."""

    SIGHTING = 0
    FALSE_POSITIVE = 1
    EXPIRATION = 2


class Format(StrEnum):
    """The observation file formats."""

    CSV = "csv"
    JSONL = "jsonl"


SIGHTING_NAMES: Final[dict[str, SightingType]] = {
    "0": SightingType.SIGHTING,
    "1": SightingType.FALSE_POSITIVE,
    "2": SightingType.EXPIRATION,
    "sighting": SightingType.SIGHTING,
    "false-positive": SightingType.FALSE_POSITIVE,
    "expiration": SightingType.EXPIRATION,
}
COLUMNS: Final = ("value", "time", "type", "count", "sighting")
REQUIRED: Final = ("value", "time")
MAX_COUNT: Final = 999_999_999
COUNT_SHAPE: Final = r"[0-9]{1,9}"
RFC3339_SHAPE: Final = (
    r"(19[7-9][0-9]|[2-9][0-9]{3})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])"
    r"(\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):([0-5][0-9]))"
)
EPOCH_SHAPE: Final = r"([0-9]{1,11})(\.[0-9]{1,9})?"
_RFC3339 = re.compile(RFC3339_SHAPE)
_EPOCH = re.compile(EPOCH_SHAPE)
_COUNT = re.compile(COUNT_SHAPE)
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_EPOCH: Final = 10**11


@dataclass(frozen=True)
class Limits:
    """Limits on an observation file: its size in bytes, a line's length in bytes, how many errors are
    listed (all are counted), and how far after `now` a time may lie (sensor clocks drift)."""

    max_bytes: int = 1 << 30
    max_line_length: int = 8192
    max_errors: int = 1000
    clock_skew: timedelta = timedelta(minutes=5)


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True)
class Observation:
    """One observed value: normal form and type, when, how often, which kind of sighting, and the line of
    the file it came from (0 when it came from elsewhere)."""

    value: str
    type: ValueType
    time: datetime
    count: int = 1
    sighting: SightingType = SightingType.SIGHTING
    line: int = 0


def parse(
    data: bytes, fmt: Format | str, now: datetime, limits: Limits = DEFAULT_LIMITS
) -> list[Observation]:
    """Every observation in `data` (a whole file in `fmt`), or `ObservationError` listing every problem."""
    if Format(fmt) is Format.CSV:
        return parse_csv(data, now, limits)
    return parse_jsonl(data, now, limits)


def parse_csv(data: bytes, now: datetime, limits: Limits = DEFAULT_LIMITS) -> list[Observation]:
    """Every observation of a CSV file with a header line, or `ObservationError` listing every problem."""
    errors = _Errors(limits.max_errors)
    lines = _lines(data, limits, errors)
    header = next(lines, None)
    if header is None:
        errors.add(1, "the file is empty: a header line naming the columns value and time is required")
        raise ObservationError(errors.kept, errors.total)
    try:
        columns = csv_columns(header[1])
    except ValueError as exc:
        errors.add(header[0], str(exc))
        columns = ()
    found: list[Observation] = []
    for number, text in lines:
        try:
            fields = _csv_fields(text, len(columns)) if columns else []
            if columns:
                found.append(csv_observation(dict(zip(columns, fields, strict=True)), number, now, limits))
        except ValueError as exc:
            errors.add(number, str(exc))
    errors.raise_any()
    return found


def parse_jsonl(data: bytes, now: datetime, limits: Limits = DEFAULT_LIMITS) -> list[Observation]:
    """Every observation of a JSON lines file, or `ObservationError` listing every problem."""
    errors = _Errors(limits.max_errors)
    found: list[Observation] = []
    for number, text in _lines(data, limits, errors):
        try:
            found.append(json_observation(_json_object(text), number, now, limits))
        except ValueError as exc:
            errors.add(number, str(exc))
    errors.raise_any()
    return found


def csv_columns(header: str) -> tuple[str | None, ...]:
    """The columns a CSV header line names, in order: a known column's name, or None for a column that is
    ignored. Raises ValueError when `value` or `time` is missing or a known column is named twice."""
    try:
        names = next(csv.reader([header], strict=True))
    except csv.Error as exc:
        raise ValueError(f"the header line is not valid CSV ({exc})") from None
    folded = [name.strip(BLANKS).lower() if name.strip(BLANKS).isascii() else name for name in names]
    columns = tuple(name if name in COLUMNS else None for name in folded)
    twice = sorted({c for c in columns if c is not None and columns.count(c) > 1})
    if twice:
        raise ValueError(f"the header names {', '.join(twice)} more than once")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ValueError(
            f"the header line must name the columns value and time (missing: {', '.join(missing)}; "
            f"known columns: {', '.join(COLUMNS)})"
        )
    return columns


def csv_observation(
    fields: Mapping[str | None, str | None], line: int, now: datetime, limits: Limits = DEFAULT_LIMITS
) -> Observation:
    """One observation from a CSV record's fields by column name (None or '' is an empty field).
    Raises ValueError with the reason."""
    value, time = fields.get("value") or "", fields.get("time") or ""
    when = check_time(parse_time(time), now, limits)
    declared = _declared(fields.get("type") or "")
    count = _csv_count(fields.get("count") or "")
    sighting = _sighting(fields.get("sighting") or "")
    normal = normalise(value, declared)
    return Observation(normal.value, normal.type, when, count, sighting, line)


def json_observation(
    record: Mapping[str, object], line: int, now: datetime, limits: Limits = DEFAULT_LIMITS
) -> Observation:
    """One observation from a decoded JSON object (absent or null optional keys take their defaults).
    Raises ValueError with the reason."""
    value, time = record.get("value"), record.get("time")
    if not isinstance(value, str):
        raise ValueError("value must be a string" if value is not None else "value is missing")
    if isinstance(time, str):
        when = parse_time(time)
    elif isinstance(time, int | float) and not isinstance(time, bool):
        when = epoch_time(time)
    else:
        raise ValueError(
            "time must be an RFC 3339 string or epoch seconds" if time is not None else "time is missing"
        )
    when = check_time(when, now, limits)
    type_, count, sighting = record.get("type"), record.get("count"), record.get("sighting")
    if type_ is not None and not isinstance(type_, str):
        raise ValueError("type must be a string")
    declared = _declared(type_ or "")
    normal = normalise(value, declared)
    return Observation(normal.value, normal.type, when, _json_count(count), _json_sighting(sighting), line)


@functools.lru_cache(maxsize=1 << 16)  # exports repeat their times; the result is immutable
def parse_time(text: str) -> datetime:
    """An RFC 3339 time (with `T` and a zone) or epoch seconds as text, in UTC. Raises ValueError."""
    text = text.strip(BLANKS)
    m = _RFC3339.fullmatch(text)
    if m is not None:
        return _rfc3339(m, text)
    e = _EPOCH.fullmatch(text)
    if e is not None:
        fraction = (e.group(2) or ".")[1:7].ljust(6, "0")
        return EPOCH + timedelta(seconds=int(e.group(1)), microseconds=int(fraction))
    if not text:
        raise ValueError("time is missing")
    raise ValueError(
        f"time {text[:40]!r} is neither RFC 3339 (e.g. 2026-11-23T09:15:00Z) "
        "nor epoch seconds (e.g. 1763889300)"
    )


def epoch_time(seconds: int | float) -> datetime:
    """Epoch seconds (a JSON number) as a UTC time. Raises ValueError when negative, not finite or past
    year 5138 (11 digits)."""
    if not 0 <= seconds < _MAX_EPOCH:  # also refuses NaN and infinities
        raise ValueError(f"time {seconds!r} is not epoch seconds between 0 and 10^11")
    return EPOCH + timedelta(seconds=seconds)


def check_time(when: datetime, now: datetime, limits: Limits = DEFAULT_LIMITS) -> datetime:
    """`when`, unless it lies more than the clock-skew tolerance after `now` (then ValueError)."""
    if when > now + limits.clock_skew:
        raise ValueError(
            f"time {when.isoformat()} is in the future "
            f"(more than {limits.clock_skew} after {now.isoformat()})"
        )
    return when


def _rfc3339(m: re.Match[str], text: str) -> datetime:
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    micro = int((m.group(7) or ".")[1:7].ljust(6, "0"))
    zone = UTC
    if m.group(8) != "Z":
        offset = timedelta(hours=int(m.group(9)), minutes=int(m.group(10)))
        zone = timezone(-offset if m.group(8)[0] == "-" else offset)
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"time {text!r} is not a valid date and time") from None


def _declared(text: str) -> ValueType | str | None:
    if not text.strip(BLANKS):
        return None
    kind = type_name(text)
    if kind is None:
        raise ValueError(f"unknown type {text[:40]!r} (known: {', '.join(t.value for t in ValueType)}, ip)")
    return kind


def _csv_count(text: str) -> int:
    text = text.strip(BLANKS)
    if not text:
        return 1
    if not _COUNT.fullmatch(text) or int(text) < 1:
        raise ValueError(f"count {text[:40]!r} is not a whole number from 1 to {MAX_COUNT:,}")
    return int(text)


def _json_count(count: object) -> int:
    if count is None:
        return 1
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count {count!r} is not a whole number from 1 to {MAX_COUNT:,}")
    return count


def _sighting(text: str) -> SightingType:
    text = text.strip(BLANKS)
    if not text:
        return SightingType.SIGHTING
    kind = SIGHTING_NAMES.get(text)
    if kind is None:
        raise ValueError(f"sighting {text[:40]!r} is not one of 0/sighting, 1/false-positive, 2/expiration")
    return kind


def _json_sighting(sighting: object) -> SightingType:
    if sighting is None:
        return SightingType.SIGHTING
    if isinstance(sighting, int) and not isinstance(sighting, bool) and 0 <= sighting <= 2:
        return SightingType(sighting)
    if isinstance(sighting, str):
        return _sighting(sighting)
    raise ValueError(f"sighting {sighting!r} is not one of 0/sighting, 1/false-positive, 2/expiration")


def _csv_fields(text: str, expected: int) -> list[str]:
    try:
        fields = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise ValueError(f"not valid CSV ({exc})") from None
    if len(fields) != expected:
        raise ValueError(f"expected {expected} fields as in the header, found {len(fields)}")
    return fields


def _json_object(text: str) -> dict[str, object]:
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, found {type(record).__name__}")
    return record


def _lines(data: bytes, limits: Limits, errors: _Errors) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line that is not blank; size, length and encoding problems go to
    `errors` (a file over the size limit is refused at once)."""
    if len(data) > limits.max_bytes:
        errors.add(0, f"the file is {len(data):,} bytes, over the limit of {limits.max_bytes:,}")
        errors.raise_any()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.removesuffix(b"\r")
        if len(raw) > limits.max_line_length:
            errors.add(
                number, f"the line is {len(raw):,} bytes long, over the limit of {limits.max_line_length:,}"
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.add(number, f"not UTF-8 (byte {exc.start + 1} of the line)")
            continue
        if text.strip(BLANKS):
            yield number, text


class _Errors:
    """Problems found so far: the first `cap` kept, all counted."""

    def __init__(self, cap: int) -> None:
        self.cap, self.kept, self.total = cap, list[LineError](), 0

    def add(self, line: int, reason: str) -> None:
        self.total += 1
        if len(self.kept) < self.cap:
            self.kept.append(LineError(line, reason))

    def raise_any(self) -> None:
        if self.total:
            raise ObservationError(self.kept, self.total)
