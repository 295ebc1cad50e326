"""Bulk observation files: all or nothing, line-precise errors (issue 7, "Bad input")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.warning.errors import ObservationError
from gesher.warning.observations import (
    Format,
    Limits,
    Observation,
    SightingType,
    parse,
    parse_csv,
    parse_jsonl,
    parse_time,
)
from gesher.warning.values import ValueType

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def refused(data: bytes, fmt: Format = Format.CSV, limits: Limits = Limits()) -> list[str]:
    with pytest.raises(ObservationError) as caught:
        parse(data, fmt, NOW, limits)
    return [str(e) for e in caught.value.errors]


def test_csv_with_every_column_and_ignored_extras() -> None:
    data = (
        "\ufeffTime,Value,type,count,sighting,src_host\r\n"
        "2026-11-23T09:15:00Z,Evil.Example.,,,,fw1\r\n"
        "\r\n"
        '1763889300.25,"2001:DB8::1",ipv6-addr,3,false-positive,"a,b"\n'
        "2026-11-23T11:15:00.1234567+02:00,d41d8cd98f00b204e9800998ecf8427e,md5,1,2,\n"
    ).encode()
    assert parse_csv(data, NOW) == [
        Observation(
            "evil.example",
            ValueType.DOMAIN,
            datetime(2026, 11, 23, 9, 15, tzinfo=UTC),
            1,
            SightingType.SIGHTING,
            2,
        ),
        Observation(
            "2001:db8::1",
            ValueType.IPV6,
            datetime(2025, 11, 23, 9, 15, 0, 250000, tzinfo=UTC),
            3,
            SightingType.FALSE_POSITIVE,
            4,
        ),
        Observation(
            "d41d8cd98f00b204e9800998ecf8427e",
            ValueType.MD5,
            datetime(2026, 11, 23, 9, 15, 0, 123456, tzinfo=UTC),
            1,
            SightingType.EXPIRATION,
            5,
        ),
    ]


def test_json_lines_with_numbers_strings_and_nulls() -> None:
    lines = [
        {"value": "Evil.Example.", "time": "2026-11-23T09:15:00Z", "extra": [1]},
        {"value": "198.51.100.7", "time": 1763889300, "type": None, "count": 2, "sighting": "sighting"},
        {"value": "http://Evil.Example/X", "time": 1763889300.5, "sighting": 1},
    ]
    data = b"\n".join(orjson.dumps(line) for line in lines) + b"\n\n"
    found = parse_jsonl(data, NOW)
    assert [(o.value, o.type, o.count, o.sighting, o.line) for o in found] == [
        ("evil.example", ValueType.DOMAIN, 1, SightingType.SIGHTING, 1),
        ("198.51.100.7", ValueType.IPV4, 2, SightingType.SIGHTING, 2),
        ("http://Evil.Example/X", ValueType.URL, 1, SightingType.FALSE_POSITIVE, 3),
    ]
    assert found[2].time == datetime(2025, 11, 23, 9, 15, 0, 500000, tzinfo=UTC)


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_loaded() -> None:
    data = (
        b"value,time,type,count,sighting\n"
        b"ok.example,2026-11-23T09:15:00Z,,,\n"
        b",2026-11-23T09:15:00Z,,,\n"
        b"ok.example,yesterday,,,\n"
        b"ok.example,2026-11-23T09:15:00Z,,0,\n"
        b"ok.example,2026-11-23T09:15:00Z,,,3\n"
        b"ok.example,2026-11-23T09:15:00Z,ipv5,,\n"
        b"1.2.3.999,2026-11-23T09:15:00Z,ipv4-addr,,\n"
        b"ok.example,2026-11-23T09:15:00Z\n"
        b'"unterminated,2026-11-23T09:15:00Z,,,\n'
        b"ok.example,2026-11-23T12:06:00Z,,,\n"
        b"ok.example,1969-12-31T23:59:59Z,,,\n"
        b"ok.example,2026-02-30T00:00:00Z,,,\n"
    ) + b"ok.example,2026-11-23T09:15:00Z,,,\xff\n"
    errors = refused(data)
    assert [e.split(":", 1)[0] for e in errors] == [f"line {n}" for n in range(3, 15)]
    assert "value is empty" in errors[0] and "neither RFC 3339" in errors[1]
    assert "count '0'" in errors[2] and "sighting '3'" in errors[3] and "unknown type 'ipv5'" in errors[4]
    assert "not an IPv4 address" in errors[5] and "expected 5 fields" in errors[6]
    assert "not valid CSV" in errors[7] and "in the future" in errors[8]
    assert "neither RFC 3339" in errors[9] and "not a valid date" in errors[10] and "not UTF-8" in errors[11]


def test_json_lines_errors() -> None:
    data = (
        b'{"value": "a.example", "time": "2026-11-23T09:15:00Z"}\n[1]\n{"value": 1, "time": 1}\n{"time": 1}\n'
    )
    data += b'{"value": "a", "time": true}\n{"value": "a", "time": -1}\n'
    data += b'{"value": "a", "time": 1, "count": 1.5}\n{oops\n'
    errors = refused(data, Format.JSONL)
    assert [e.split(":", 1)[0] for e in errors] == [f"line {n}" for n in range(2, 9)]
    assert "expected a JSON object" in errors[0] and "value must be a string" in errors[1]
    assert "value is missing" in errors[2] and "time must be" in errors[3] and "epoch seconds" in errors[4]
    assert "count 1.5" in errors[5] and "not valid JSON" in errors[6]


def test_header_problems() -> None:
    assert refused(b"") == [
        "line 1: the file is empty: a header line naming the columns value and time is required"
    ]
    assert "missing: time" in refused(b"value,when\na,b\n")[0]
    assert "more than once" in refused(b"value,time,Value\n")[0]


def test_limits_size_line_length_and_error_cap() -> None:
    assert "over the limit of 10" in refused(b"value,time\n" * 2, limits=Limits(max_bytes=10))[0]
    long_line = b"value,time\n" + b"x" * 100 + b".example,2026-11-23T09:15:00Z\n"
    assert refused(long_line, limits=Limits(max_line_length=64)) == [
        "line 2: the line is 129 bytes long, over the limit of 64"
    ]
    with pytest.raises(ObservationError) as caught:
        parse_csv(b"value,time\n" + b",x\n" * 50, NOW, Limits(max_errors=10))
    assert len(caught.value.errors) == 10 and caught.value.total == 50
    assert "50 errors" in str(caught.value) and "(and 45 more)" in str(caught.value)


def test_clock_skew_tolerance_is_configurable() -> None:
    data = b"value,time\na.example,2026-11-23T12:04:00Z\n"
    assert len(parse_csv(data, NOW)) == 1
    assert "in the future" in refused(data, limits=Limits(clock_skew=timedelta(minutes=1)))[0]


def test_times() -> None:
    assert parse_time("2026-11-23T09:15:00-00:30") == datetime(2026, 11, 23, 9, 45, tzinfo=UTC)
    assert parse_time("0") == datetime(1970, 1, 1, tzinfo=UTC)
    for bad in (
        "2026-11-23 09:15:00Z",
        "2026-11-23T09:15:00",
        "2026-11-23T24:00:00Z",
        "\uff11\uff17\uff16\uff13",
    ):
        with pytest.raises(ValueError):
            parse_time(bad)


good_line = st.builds(
    lambda v, s: f"{v}.example,2026-11-23T{s:02d}:00:00Z",
    st.text(alphabet="abcXYZ-", min_size=1, max_size=8),
    st.integers(min_value=0, max_value=11),
)
bad_line = st.sampled_from(
    [",2026-11-23T09:00:00Z", "a.example,never", "a.example", "a,b,c", '"a,b', "x,2099-01-01T00:00:00Z"]
)


@given(st.lists(st.tuples(st.booleans(), good_line, bad_line), max_size=30))
def test_parsing_is_all_or_nothing(rows: list[tuple[bool, str, str]]) -> None:
    """Either every line parses and every one is returned, or the file is refused naming exactly the bad
    lines."""
    lines = [bad if is_bad else good for is_bad, good, bad in rows]
    data = ("value,time\n" + "\n".join(lines) + "\n").encode()
    expected_bad = [n for n, (is_bad, _, _) in enumerate(rows, start=2) if is_bad]
    if not expected_bad:
        assert [o.line for o in parse_csv(data, NOW)] == list(range(2, len(rows) + 2))
        return
    with pytest.raises(ObservationError) as caught:
        parse_csv(data, NOW)
    assert [e.line for e in caught.value.errors] == expected_bad
