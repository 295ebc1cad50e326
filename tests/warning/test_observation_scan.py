"""The compiled scan of plain CSV observation files (gesher.warning.observation_scan), checked against
the pure parser it stands in for: its time ordinals accept exactly the common `YYYY-MM-DDTHH:MM:SSZ`
times the pure `parse_time` accepts and order as they do; a CLEAN scan means the pure parser accepts every
line and lists every line whose value could equal an indicator value (plus the lines Python must decide);
anything unusual is SUSPECT; a too small output is FULL. (JSON lines: tests/warning_service/test_matching.py
holds the scan's reading of JSON text to orjson's and the core's on generated text.)"""

from __future__ import annotations

import calendar
import os
import re
import string
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from gesher.warning.errors import ObservationError
from gesher.warning.observation_scan import KeyTable, Status, scan_csv, time_ordinal
from gesher.warning.observations import DEFAULT_LIMITS, Limits, parse_csv, parse_time
from gesher.warning.values import BLANKS, IPV4_SHAPE, IPV6_SHAPE, TYPE_NAMES, fold, normalise

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# The caller's limit: `now` plus the default clock-skew tolerance (5 minutes), as the pure parser's.
LATEST_TEXT = "2026-11-23T12:05:00Z"
LATEST = time_ordinal(LATEST_TEXT)
T = "2026-11-23T09:15:07Z"
HEADER = b"time,value\n"
KEYS = ("evil.example", "198.51.100.7", "cache.example:8080")

VALID_TIMES = (
    "2026-11-23T09:15:07Z",
    "1970-01-01T00:00:00Z",
    "2024-02-29T23:59:59Z",
    "2000-02-29T00:00:00Z",
    "2100-02-28T12:00:00Z",
)
NEAR_MISSES = (
    "2025-02-29T09:15:07Z",  # not a leap year
    "2100-02-29T00:00:00Z",  # a century, not a leap year
    "2026-04-31T00:00:00Z",
    "2026-11-23T24:00:00Z",
    "2026-11-23T23:60:00Z",
    "2026-11-23T23:59:60Z",  # no leap seconds
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-11-00T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "2026-11-23t09:15:07Z",
    "2026-11-23T09:15:07z",
)
# Characters the edits of a valid time use: its own, the lower-case separators the pure parser refuses,
# blanks and a fraction's dot, and a non-ASCII digit (which `int` would take, but no `[0-9]`).
EDIT_CHARS = "0123456789-:TZtz +.\t\u0663"
# Observed and indicator values: no comma or quote (those make a line SUSPECT, not a value);
# "%" makes IPv6 scopes and "é" lines Python must decide.
VALUE_CHARS = string.ascii_letters[:6] + "gxzGXZ" + string.digits + ".-:@/%é"
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


# --- helpers ---------------------------------------------------------------------------------------------


def pure_time(text: str) -> datetime | None:
    try:
        return parse_time(text)
    except ValueError:
        return None


def key_table(values: Sequence[str]) -> KeyTable:
    keys = KeyTable()
    keys.add(values)
    return keys


def row(value: str | bytes, time: str = T) -> bytes:
    """One `time,value` line without its end."""
    return time.encode() + b"," + (value if isinstance(value, bytes) else value.encode())


def body_of(*rows: bytes, end: bytes = b"\n") -> bytes:
    return b"".join(r + end for r in rows)


def scan_body(
    body: bytes,
    keys: KeyTable,
    *,
    header: bytes = HEADER,
    columns: int = 2,
    time_column: int = 0,
    value_column: int = 1,
    type_column: int = -1,
    count_column: int = -1,
    sighting_column: int = -1,
    latest: int = LATEST,
    max_line: int = DEFAULT_LIMITS.max_line_length,
    rows: int = 256,
) -> tuple[Status, list[tuple[int, int]]]:
    """Scan `body` after `header` in one buffer (the header is not part of the range, as in a file):
    the status and the listed lines' (start, end), relative to the body."""
    data = np.frombuffer(header + body, np.uint8)
    out = np.full((rows, 2), -1, np.int64)
    status, listed = scan_csv(
        data,
        len(header),
        data.size,
        columns,
        [time_column, value_column, type_column, count_column, sighting_column],
        latest,
        max_line,
        keys,
        out,
    )
    return status, [(a - len(header), b - len(header)) for a, b in out[:listed].tolist()]


def texts(body: bytes, spans: list[tuple[int, int]]) -> list[bytes]:
    return [body[a:b] for a, b in spans]


def line_starts(body: bytes) -> list[int]:
    """Where each line of `body` starts (an end at the very end starts no line)."""
    return [0, *(i + 1 for i, b in enumerate(body) if b == 10 and i + 1 < len(body))] if body else []


def assert_pure_accepts(body: bytes, header: bytes = HEADER, limits: Limits = DEFAULT_LIMITS) -> None:
    """A CLEAN scan promises that the pure parser takes every line (it raises otherwise)."""
    assert len(parse_csv(header + body, NOW, limits)) == len(line_starts(body))


def join_key_table(indicators: list[str]) -> set[str]:
    """The join keys the table holds for indicator normal forms: ASCII only, letters lower-cased, a value
    ending in a dot with and without it."""
    ascii_values = [v.translate(ASCII_LOWER) for v in indicators if v.isascii()]
    return {*ascii_values, *(v[:-1] for v in ascii_values if v.endswith("."))}


def python_line(value: str) -> bool:
    """Whether the scan leaves the line to Python: a non-ASCII byte, or a value of IPv6 shape."""
    return not value.isascii() or re.fullmatch(IPV6_SHAPE, value.strip(BLANKS)) is not None


# --- time ordinals ---------------------------------------------------------------------------------------


@st.composite
def edited_times(draw: st.DrawFn) -> str:
    """A valid time after one to three deletions, insertions or replacements."""
    text = draw(st.sampled_from(VALID_TIMES))
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.sampled_from(("delete", "insert", "replace")))
        if edit == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(EDIT_CHARS)) + text[at:]
        elif text:
            at = draw(st.integers(0, len(text) - 1))
            replacement = "" if edit == "delete" else draw(st.sampled_from(EDIT_CHARS))
            text = text[:at] + replacement + text[at + 1 :]
    return text


def assert_ordinal_agrees_with_pure(text: str) -> None:
    ordinal, parsed = time_ordinal(text), pure_time(text)
    common_shape = len(text) == 20 and text.endswith("Z")
    if ordinal >= 0:
        assert parsed is not None and common_shape, text
        assert f"{parsed:%Y-%m-%dT%H:%M:%SZ}" == text  # it accepts only the canonical spelling
    if parsed is not None and common_shape and parsed.year >= 1970:
        assert ordinal >= 0, text


@settings(max_examples=1500, deadline=None)
@given(edited_times())
@example("2026-11-23T09:15:07Z")
@example("2026-11-23T09:15:0\u0663Z")  # 20 characters, 21 bytes
@example(" 2026-11-23T09:15:07Z")  # the pure parser strips blanks; the scan leaves the line to it
def test_time_ordinal_accepts_only_what_the_pure_parser_accepts(text: str) -> None:
    assert_ordinal_agrees_with_pure(text)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_time_ordinal_refuses_near_misses(text: str) -> None:
    assert time_ordinal(text) == -1
    assert pure_time(text) is None


@pytest.mark.parametrize("text", VALID_TIMES)
def test_time_ordinal_accepts_valid_times(text: str) -> None:
    assert time_ordinal(text) >= 0


# Naive datetimes stand for UTC ones; the scan's times have whole seconds.
FIRST, LAST = datetime(1970, 1, 1), datetime(9999, 12, 31, 23, 59, 59)
UTC_SECONDS = st.datetimes(min_value=FIRST, max_value=LAST).map(lambda d: d.replace(microsecond=0))
# Pairs near each other at every scale (a second to years apart) and far apart: random pairs alone
# almost never share a day, where an ordinal's hour and minute fields must order.
SECONDS_APART = st.sampled_from([1, 60, 3600, 86400, 31 * 86400, 366 * 86400]).flatmap(
    lambda unit: st.integers(-3 * unit, 3 * unit)
)
TIME_PAIRS = st.one_of(
    st.tuples(UTC_SECONDS, UTC_SECONDS),
    st.tuples(UTC_SECONDS, SECONDS_APART).map(lambda p: (p[0], p[0] + timedelta(seconds=p[1]))),
).filter(lambda p: FIRST <= p[1] <= LAST)


@settings(max_examples=1000, deadline=None)
@given(TIME_PAIRS)
@example((datetime(1970, 1, 1), datetime(1970, 1, 1, 0, 0, 1)))
@example((datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1)))
@example((datetime(2026, 1, 31, 23, 59, 59), datetime(2026, 2, 1)))
def test_ordinals_order_as_times(pair: tuple[datetime, datetime]) -> None:
    a, b = pair
    first, second = time_ordinal(f"{a:%Y-%m-%dT%H:%M:%SZ}"), time_ordinal(f"{b:%Y-%m-%dT%H:%M:%SZ}")
    assert first >= 0 and second >= 0
    assert (first < second, first == second) == (a < b, a == b)


@settings(max_examples=200, deadline=None)
@given(st.integers(1970, 9999))
@example(1972)
@example(2000)  # divisible by 400: leap
@example(2023)
@example(2024)
@example(2100)  # divisible by 100 only: not leap
@example(2400)
def test_every_real_day_is_accepted_and_no_other(year: int) -> None:
    for month in range(1, 13):
        days = calendar.monthrange(year, month)[1]
        for day in range(0, 33):
            accepted = time_ordinal(f"{year:04d}-{month:02d}-{day:02d}T12:00:00Z") >= 0
            assert accepted == (1 <= day <= days), (year, month, day)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    assert (time_ordinal(f"{year:04d}-02-29T00:00:00Z") >= 0) == leap


# --- scan: CLEAN -----------------------------------------------------------------------------------------

# (value, listed): matching values in any ASCII case, with one trailing dot or surrounding blanks; lines
# Python must decide (non-ASCII, IPv6 shape); values that must not be listed.
MIXED = (
    ("Evil.Example", True),
    ("evil.example.", True),
    (" \tEVIL.example\t ", True),
    ("good.example", False),
    ("evil.example..", False),  # its key keeps one dot: "evil.example." is another value
    ("evil.exampl", False),
    ("xevil.example", False),
    ("198.51.100.7", True),
    ("198.51.100.70", False),
    ("évil.example", True),  # non-ASCII: Python decides
    ("2001:DB8::1", True),  # IPv6 shape: Python decides (its normal form is 2001:db8::1)
    ("fe80::1%eth0", True),
    ("::1", True),  # shorter than one 8-byte word
    ("fe80::1%", False),  # an empty scope is no IPv6 shape
    ("fe80::1%a%b", False),  # nor are two scopes
    ("dead:beef:zz", False),  # a colon, but not an IPv6 shape
    ("abc:defg", False),  # "g" is no hexadecimal digit
    ("host:8080", False),
    ("Cache.Example:8080", True),  # not an IPv6 shape, but a match
)


def test_clean_scan_lists_exactly_the_lines_that_might_match() -> None:
    body = body_of(*(row(value) for value, _ in MIXED))
    status, spans = scan_body(body, key_table(KEYS))
    assert status is Status.CLEAN
    assert texts(body, spans) == [row(value) for value, listed in MIXED if listed]
    assert_pure_accepts(body)


def test_clean_scan_of_crlf_lines_and_a_last_line_without_end() -> None:
    body = row("Evil.Example") + b"\r\n" + row("good.example") + b"\r\n" + row("evil.example.")
    status, spans = scan_body(body, key_table(KEYS))
    assert status is Status.CLEAN
    # The listed line ends before "\r"; the last line ends at the end of the data.
    assert texts(body, spans) == [row("Evil.Example"), row("evil.example.")]
    assert spans[-1][1] == len(body)
    assert_pure_accepts(body)


def test_clean_scan_with_ignored_columns_and_the_time_after_the_value() -> None:
    header = b"src,value,note,time\n"
    lines = (
        b"10.0.0.1,Evil.Example,seen twice," + T.encode(),
        b",good.example,," + T.encode(),
        b"10.0.0.2,good.example,caf\xc3\xa9," + T.encode(),  # non-ASCII in an ignored column
        b"10.0.0.3, 198.51.100.7 ,x.y," + T.encode(),
    )
    body = body_of(*lines)
    status, spans = scan_body(body, key_table(KEYS), header=header, columns=4, time_column=3, value_column=1)
    assert status is Status.CLEAN
    assert texts(body, spans) == [lines[0], lines[2], lines[3]]
    assert_pure_accepts(body, header)


def test_scan_keeps_to_its_range() -> None:
    lines = (row("Evil.Example"), row("evil.example."), row('"suspect"'))
    body = body_of(*lines)
    starts = line_starts(body)
    data = np.frombuffer(body, np.uint8)
    out = np.zeros((8, 2), np.int64)
    max_line = DEFAULT_LIMITS.max_line_length
    status, listed = scan_csv(
        data, starts[1], starts[2], 2, [0, 1, -1, -1, -1], LATEST, max_line, key_table(KEYS), out
    )
    assert (status, listed) == (Status.CLEAN, 1)
    assert out[0].tolist() == [starts[1], starts[2] - 1]


@pytest.mark.parametrize("crlf", [False, True])
def test_a_line_of_exactly_max_line_bytes_is_clean_and_one_more_is_suspect(crlf: bool) -> None:
    line = row("evil.example")
    body = line + (b"\r\n" if crlf else b"\n")  # the "\r" is not counted, as by the pure parser
    assert scan_body(body, KeyTable(), max_line=len(line))[0] is Status.CLEAN
    assert_pure_accepts(body, limits=Limits(max_line_length=len(line)))
    assert scan_body(body, KeyTable(), max_line=len(line) - 1)[0] is Status.SUSPECT
    with pytest.raises(ObservationError, match="over the limit"):
        parse_csv(HEADER + body, NOW, Limits(max_line_length=len(line) - 1))


def test_a_time_of_exactly_latest_is_clean_and_one_second_later_suspect() -> None:
    keys = key_table(KEYS)
    assert scan_body(body_of(row("x.example", LATEST_TEXT)), keys)[0] is Status.CLEAN
    assert_pure_accepts(body_of(row("x.example", LATEST_TEXT)))
    assert scan_body(body_of(row("x.example", "2026-11-23T12:05:01Z")), keys)[0] is Status.SUSPECT
    assert scan_body(body_of(row("x.example", "2027-01-01T00:00:00Z")), keys)[0] is Status.SUSPECT


def test_full_when_out_has_fewer_rows_than_lines_to_list() -> None:
    lines = (row("evil.example"), row("good.example"), row("EVIL.example"), row("2001:db8::1"))
    body = body_of(*lines)
    keys = key_table(KEYS)
    status, spans = scan_body(body, keys, rows=2)
    assert status is Status.FULL
    assert texts(body, spans) == [lines[0], lines[2]]  # what fitted, in order
    status, spans = scan_body(body, keys, rows=3)
    assert (status, texts(body, spans)) == (Status.CLEAN, [lines[0], lines[2], lines[3]])
    assert scan_body(body_of(row("good.example")), keys, rows=0)[0] is Status.CLEAN


# --- scan: SUSPECT ---------------------------------------------------------------------------------------

SUSPECT_LINES = {
    "quoted value": row(b'"evil.example"'),
    "quote inside a value": row(b'evil"example'),
    "quote in an extra field": row(b'evil.example,"x"'),
    "NUL byte": row(b"evil\x00.example"),
    "start of heading": row(b"\x01evil.example"),
    "vertical tab": row(b"evil.example\x0b"),
    "form feed": row(b"evil\x0c.example"),
    "escape": row(b"evil\x1b.example"),
    "unit separator": row(b"evil.\x1fexample"),
    "carriage return inside a line": row(b"evil\r.example"),
    "carriage return before CRLF": row(b"evil.example\r\r"),  # the row's "\n" follows
    "too few fields": T.encode(),
    "too many fields": row(b"evil.example,extra"),
    "empty line": b"",
    "blank line": b" \t ",
    "blanks before the time": b" " + row(b"evil.example"),
    "fraction of a second": row(b"evil.example", "2026-11-23T09:15:07.5Z"),
    "offset": b"2026-11-23T09:15:07+00:00,evil.example",
    "epoch seconds": b"1763889307,evil.example",
    "lower-case z": row(b"evil.example", "2026-11-23T09:15:07z"),
    "impossible date": row(b"evil.example", "2026-02-30T09:15:07Z"),
    "before 1970": row(b"evil.example", "1969-12-31T23:59:59Z"),
    "non-ASCII digit in the time": row(b"evil.example", "2026-11-23T09:15:0\u0663Z"),
    "future time": row(b"evil.example", "2026-11-23T12:05:01Z"),
    "empty value": row(b""),
    "blank value": row(b" \t "),
    "dot value": row(b"."),
    "dot value between blanks": row(b"\t. "),
}
GOOD = row("good.example")


def suspect_bodies() -> list[Any]:
    cases = []
    for name, line in SUSPECT_LINES.items():
        cases.append(pytest.param(line + b"\n" + body_of(GOOD, GOOD), id=f"{name}, first"))
        cases.append(pytest.param(body_of(GOOD, line, GOOD), id=f"{name}, middle"))
        if line:  # an empty last line without its end is no line at all
            cases.append(pytest.param(body_of(GOOD, GOOD) + line, id=f"{name}, last without end"))
    return cases


@pytest.mark.parametrize("body", suspect_bodies())
def test_suspect(body: bytes) -> None:
    status, _ = scan_body(body, key_table(KEYS))
    assert status is Status.SUSPECT


def test_the_suspect_cases_are_clean_without_their_flaw() -> None:
    # Guards the parametrized cases: the good lines around each flaw are CLEAN on their own.
    assert scan_body(body_of(GOOD, GOOD, GOOD), key_table(KEYS)) == (Status.CLEAN, [])


# --- KeyTable --------------------------------------------------------------------------------------------


def test_an_indicator_ending_in_a_dot_matches_with_and_without_it() -> None:
    keys = key_table(["http://x.example/a."])
    listed_values = (
        "http://x.example/a.",
        "http://x.example/a",
        "HTTP://X.Example/A.",
        " http://x.example/a.\t",
    )
    body = body_of(*(row(v) for v in listed_values), row("http://x.example/b"), row("http://x.example/"))
    status, spans = scan_body(body, keys)
    assert status is Status.CLEAN
    assert texts(body, spans) == [row(v) for v in listed_values]


def test_non_ascii_indicator_values_are_not_in_the_table() -> None:
    plain = key_table(["evil.example"])
    with_non_ascii = key_table(["evil.example", "bücher.example", "ünïcode"])
    for built, expected in zip(with_non_ascii.arrays(), plain.arrays(), strict=True):
        np.testing.assert_array_equal(built, expected)
    only_non_ascii = key_table(["bücher.example"])
    for built, expected in zip(only_non_ascii.arrays(), KeyTable().arrays(), strict=True):
        np.testing.assert_array_equal(built, expected)
    # The observed non-ASCII value is still listed, for Python; its ASCII look-alike is not.
    body = body_of(row("bücher.example"), row("bucher.example"))
    status, spans = scan_body(body, only_non_ascii)
    assert (status, texts(body, spans)) == (Status.CLEAN, [row("bücher.example")])


def test_an_empty_key_table_lists_only_python_lines() -> None:
    values = ("evil.example", "évil.example", "2001:db8::1", "host:8080", "198.51.100.7", "fe80::1%eth0")
    body = body_of(*(row(v) for v in values))
    status, spans = scan_body(body, KeyTable())
    assert status is Status.CLEAN
    assert texts(body, spans) == [row("évil.example"), row("2001:db8::1"), row("fe80::1%eth0")]


def test_the_table_is_rebuilt_after_each_addition() -> None:
    keys = key_table(["a.example"])
    body = body_of(row("A.example"), row("b.example"), row("c.example"))
    assert texts(body, scan_body(body, keys)[1]) == [row("A.example")]
    keys.add(["b.example"])
    assert texts(body, scan_body(body, keys)[1]) == [row("A.example"), row("b.example")]
    # A batch large enough for a larger table and Bloom filter: every old and new key still found.
    many = [f"host{i}.example" for i in range(5000)]
    keys.add(many)
    big = body_of(*(row(v.upper()) for v in many), row("c.example"), row("host5000.example"))
    status, spans = scan_body(big, keys, rows=6000)
    assert status is Status.CLEAN
    assert texts(big, spans) == [row(v.upper()) for v in many]
    assert texts(body, scan_body(body, keys)[1]) == [row("A.example"), row("b.example")]


# --- properties: CLEAN lists every match -----------------------------------------------------------------

BLANK_RUNS = st.text(alphabet=BLANKS, max_size=2)
PLAIN_VALUES = st.text(alphabet=VALUE_CHARS, min_size=1, max_size=10)
VALUES = st.one_of(PLAIN_VALUES, st.builds("{}://{}".format, PLAIN_VALUES, PLAIN_VALUES))


@st.composite
def variants(draw: st.DrawFn, value: str) -> str:
    """`value` as an observation might spell it: ASCII letters in another case, a trailing dot, blanks."""
    text = "".join(c.swapcase() if c.isascii() and draw(st.booleans()) else c for c in value)
    if draw(st.booleans()):
        text += "."
    return draw(BLANK_RUNS) + text + draw(BLANK_RUNS)


@st.composite
def indicators_and_observed(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    indicators = draw(st.lists(VALUES, max_size=8))
    fresh = st.builds("{}{}{}".format, BLANK_RUNS, VALUES, BLANK_RUNS)
    observed = fresh if not indicators else st.one_of(fresh, st.sampled_from(indicators).flatmap(variants))
    return indicators, draw(st.lists(observed, max_size=16))


def normal_form(value: str) -> str | None:
    try:
        return normalise(value).value
    except ValueError:
        return None


@settings(max_examples=400, deadline=None)
@given(indicators_and_observed())
@example((["Evil.Example."], [" evil.example", "EVIL.EXAMPLE..", "evil.example."]))
@example((["a://B."], ["a://B", "A://b.", "a://B.."]))
@example((["2001:db8::1"], ["2001:DB8:0::1", "2001:db8::1%x"]))
@example((["x"], ["fe80::1%", "a:b%c%d", "abc:defg"]))  # no IPv6 shapes
def test_every_line_whose_normal_form_is_an_indicator_is_listed(case: tuple[list[str], list[str]]) -> None:
    indicators, observed = case
    normal_indicators = [n for n in map(normal_form, indicators) if n is not None]
    values = [v for v in observed if normal_form(v) is not None]  # the pure parser refuses the others
    keys = key_table(normal_indicators)
    body = body_of(*(row(v) for v in values))
    status, spans = scan_body(body, keys)
    assert status is Status.CLEAN
    assert_pure_accepts(body)
    listed = {line_starts(body).index(a) for a, _ in spans}
    must_list = {i for i, v in enumerate(values) if normal_form(v) in normal_indicators}
    assert must_list <= listed
    # Nor more than the contract says (up to a 64-bit hash collision): a key in the table, or Python's.
    table = join_key_table(normal_indicators)
    expected = {i for i, v in enumerate(values) if python_line(v) or fold(v.strip(BLANKS)) in table}
    assert listed == expected


# --- fuzz: CLEAN only when the pure parser takes every line ----------------------------------------------

# Bytes the scan must refuse or prove harmless: commas, quotes, control bytes, carriage returns, DEL.
FLAW_CHARS = ',"\r\x00\x0b\x7f'
TIMES_UP_TO_LATEST = tuple(t for t in VALID_TIMES if t <= LATEST_TEXT)


def mostly(usual: st.SearchStrategy[str], rare: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`usual` four times in five, else `rare`: were every line likely flawed, no file would be CLEAN."""
    return st.integers(0, 4).flatmap(lambda i: rare if i == 0 else usual)


FUZZ_TIMES = mostly(st.sampled_from(TIMES_UP_TO_LATEST), edited_times())
FUZZ_VALUES = mostly(
    st.builds("{}{}{}".format, BLANK_RUNS, VALUES, BLANK_RUNS),
    st.one_of(
        # A flaw anywhere, often first (a quote there opens a quoted field).
        st.builds(
            "{}{}{}".format,
            st.text(alphabet=VALUE_CHARS + BLANKS, max_size=3),
            st.sampled_from(FLAW_CHARS),
            st.text(alphabet=VALUE_CHARS + BLANKS + FLAW_CHARS, max_size=4),
        ),
        st.sampled_from(("", " \t", ".", " . ", "..")),  # no normal form, but for ".."
    ),
)


@st.composite
def fuzzed_files(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """Lines of a time (mostly valid, else edited) and a value (mostly plain, else from an alphabet with
    flaws), ended by LF or CRLF, the last one maybe not at all; and indicators, some of them the values."""
    lines = draw(st.lists(st.tuples(FUZZ_TIMES, FUZZ_VALUES), max_size=5))
    ends = [draw(st.sampled_from(("\n", "\r\n"))) for _ in lines]
    if ends and draw(st.booleans()):
        ends[-1] = ""
    body = "".join(f"{t},{v}{end}" for (t, v), end in zip(lines, ends, strict=True)).encode()
    values = [v for _, v in lines]
    indicators = draw(st.lists(st.one_of(VALUES, st.sampled_from(values)) if values else VALUES, max_size=4))
    return body, indicators


@settings(max_examples=1500, deadline=None)
@given(fuzzed_files())
def test_clean_means_the_pure_parser_accepts_and_matches_are_listed(case: tuple[bytes, list[str]]) -> None:
    body, indicators = case
    normal_indicators = [n for n in map(normal_form, indicators) if n is not None]
    status, spans = scan_body(body, key_table(normal_indicators))
    event(status.name)
    assert status is not Status.FULL
    if status is Status.CLEAN:
        observations = parse_csv(HEADER + body, NOW)  # raises if the pure parser refuses a line
        assert len(observations) == len(line_starts(body))
        listed = {line_starts(body).index(a) for a, _ in spans}
        # `Observation.line` counts the header as line 1.
        assert {o.line - 2 for o in observations if o.value in normal_indicators} <= listed


# Declared types: the scan checks a typed value as the pure core's `normalise(value, declared)` does.
TYPED_HEADER = b"time,value,type\n"


def scan_typed(value: str, declared: str) -> Status:
    """The status of a one-line typed file, LISTED standing for CLEAN with the line listed."""
    body = f"{T},{value},{declared}\n".encode()
    status, listed = scan_body(body, key_table(KEYS), header=TYPED_HEADER, columns=3, type_column=2)
    return LISTED if status is Status.CLEAN and listed else status


LISTED = "listed"  # a line Python decides (its value may match, or it is an IPv6 address)


def pure_accepts_typed(value: str, declared: str) -> bool:
    try:
        parse_csv(TYPED_HEADER + f"{T},{value},{declared}\n".encode(), NOW)
    except ObservationError:
        return False
    return True


@given(
    st.sampled_from(sorted(TYPE_NAMES)),
    st.lists(st.booleans(), min_size=16, max_size=16),
    st.sampled_from(["", " ", "\t "]),
    st.sampled_from(["", " "]),
)
def test_every_type_name_in_any_case_with_blanks_is_known(
    name: str, upper: list[bool], before: str, after: str
) -> None:
    spelled = "".join(c.upper() if u else c for c, u in zip(name, upper, strict=False))
    value = {"md5": "a" * 32, "sha1": "a" * 40, "sha-1": "a" * 40, "sha256": "a" * 64}.get(name, "1.2.3.4")
    value = {"sha-256": "a" * 64, "sha512": "a" * 128, "sha-512": "a" * 128}.get(name, value)
    value = "a@b.example" if name.startswith("email") else "2001:db8::1" if "ipv6" in name else value
    assert pure_accepts_typed(value, before + spelled + after)
    assert scan_typed(value, before + spelled + after) in (Status.CLEAN, LISTED)


@pytest.mark.parametrize("declared", ["ipv9", "domain name", "ip_src", "sha-384", "e\u0301mail", "x" * 20])
def test_unknown_type_names_are_suspect(declared: str) -> None:
    assert not pure_accepts_typed("a.example", declared)
    assert scan_typed("a.example", declared) is Status.SUSPECT


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="0123456789.:@aAfFgx", min_size=1, max_size=40),
    st.sampled_from(["ipv4", "ip", "ipv6", "email", "md5", "sha1", "sha256", "domain", "url"]),
)
def test_a_typed_value_is_clean_only_where_the_pure_core_accepts_it(value: str, declared: str) -> None:
    """CLEAN (not listed) means the pure core accepts the value as its declared type; a line whose value
    has a colon and is declared an IPv6 address (or any IP) is listed for Python, which decides; every IPv4
    address the core accepts is CLEAN."""
    status = scan_typed(value, declared)
    if declared in ("ipv6", "ip") and ":" in value:
        assert status == LISTED
    if status is Status.CLEAN:
        assert pure_accepts_typed(value, declared)
    if declared == "ipv4":
        assert (
            (status is Status.CLEAN)
            == bool(re.fullmatch(IPV4_SHAPE, value))
            == pure_accepts_typed(value, declared)
        )


def test_the_scan_works_where_numba_has_nowhere_to_write_its_cache() -> None:
    """A read-only install under a user without a home: numba finds no place for its on-disk cache and
    refuses `cache=True` at import; the scan then compiles in the process instead of failing to import.
    (numba's locator setting stands in for the read-only folders: the IPython locator places nothing.)"""
    script = (
        "import numba\n"
        "try:\n"
        "    numba.njit(cache=True)(lambda: 1)\n"
        "    print('cached')\n"
        "except RuntimeError as error:\n"
        "    print('no cache' if 'no locator available' in str(error) else error)\n"
        "from gesher.warning.observation_scan import time_ordinal\n"
        "print(time_ordinal('2026-11-23T09:15:07Z') > 0)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["no", "cache", "True"]
