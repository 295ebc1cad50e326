"""The matching engine on real files: the same answers as the pure core, all or nothing, line-precise."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gesher.warning.errors import ObservationError
from gesher.warning.observations import (
    DEFAULT_LIMITS,
    Format,
    Limits,
    SightingType,
    check_time,
    parse,
    parse_time,
)
from gesher.warning.values import ValueType, normalise
from gesher.warning_service.matching import IndicatorIndex, Match, _time_sql

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
AT = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
SHA = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
INDICATORS = [
    ("weather4free.com", "indicator--pegasus-1"),
    ("smscentro.com", "indicator--pegasus-2"),
    ("smscentro.com", "indicator--pegasus-2b"),
    ("198.51.100.7", "indicator--ip4"),
    ("2001:db8::1", "indicator--ip6"),
    ("http://Evil.Example/Login", "indicator--url"),
    ("boss@evil.example", "indicator--email"),
    (SHA.lower(), "indicator--sha"),
    # Values whose join key (DuckDB's lower()) they share with values the core keeps apart:
    ("\u00c4bc.example", "indicator--non-ascii-upper"),  # the core lower-cases ASCII only
    ("k.example", "indicator--ascii-k"),  # the Kelvin sign lower-cases to k in DuckDB
    ("http://evil.example/LOGIN", "indicator--url-variant"),  # URLs keep their case
    ("http://x.example/a.", "indicator--url-dot"),  # and their trailing dot
]


def assert_engine_answers_as_the_core(index: IndicatorIndex, path: Path, fmt: Format) -> None:
    """The engine's matches are the pure core's, or it refuses the file with the pure parser's errors."""
    try:
        expected = pure_matches(path, fmt)
    except ObservationError as error:
        with pytest.raises(ObservationError) as caught:
            index.match_file(path, fmt, NOW)
        assert caught.value.errors == error.errors
        return
    assert index.match_file(path, fmt, NOW) == expected


@pytest.fixture(scope="module")
def index() -> IndicatorIndex:
    return IndicatorIndex(INDICATORS, threads=2)


@pytest.fixture(scope="module")
def duckdb_index() -> IndicatorIndex:
    """The engine without its compiled scan: every CSV file takes the DuckDB route (or the pure one)."""
    return IndicatorIndex(INDICATORS, threads=2, compiled_scan=False)


@pytest.fixture(params=["scan", "duckdb"])
def either_index(
    request: pytest.FixtureRequest, index: IndicatorIndex, duckdb_index: IndicatorIndex
) -> IndicatorIndex:
    return index if request.param == "scan" else duckdb_index


def fast_route(engine: IndicatorIndex) -> str:
    """The route a plain `time,value` file the pure parser accepts takes."""
    return "scan" if engine.compiled_scan else "duckdb"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def pure_matches(path: Path, fmt: Format) -> list[Match]:
    """What the pure core says: parse, then look each value up."""
    keys: dict[str, list[str]] = {}
    for value, key in INDICATORS:
        keys.setdefault(value, []).append(key)
    return sorted(
        Match(o.time, o.value, k, o.type, o.count, o.sighting)
        for o in parse(path.read_bytes(), fmt, NOW)
        for k in keys.get(o.value, [])
    )


def test_mixed_case_trailing_dots_addresses_and_hashes_match_as_the_pure_core_says(
    index: IndicatorIndex, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "fw.csv",
        "time,value,src\n"
        "2026-11-23T09:15:00Z,WEATHER4FREE.COM.,a\n"
        "2026-11-23T09:15:00Z, SmsCentro.Com ,b\n"
        "2026-11-23T09:15:00Z,benign.example,c\n"
        "2026-11-23T11:15:00+02:00,2001:DB8:0:0::1,d\n"
        "1763889300,198.51.100.7,e\n"
        "2026-11-23T09:15:00.5Z,http://Evil.Example/Login,f\n"
        "2026-11-23T09:15:00Z,http://evil.example/login,g\n"
        "2026-11-23T09:15:00Z,Boss@Evil.Example,h\n"
        f"2026-11-23T09:15:00Z,{SHA},i\n"
        "2026-11-23T09:15:00Z,2001:db8::2,j\n"
        "2026-11-23T09:15:00Z,evil.example:443,k\n",
    )
    found = index.match_file(path, Format.CSV, NOW)
    assert index.last_route == "duckdb"
    assert found == pure_matches(path, Format.CSV)
    assert {(m.value, m.key) for m in found} == {
        ("weather4free.com", "indicator--pegasus-1"),
        ("smscentro.com", "indicator--pegasus-2"),
        ("smscentro.com", "indicator--pegasus-2b"),
        ("2001:db8::1", "indicator--ip6"),
        ("198.51.100.7", "indicator--ip4"),
        ("http://Evil.Example/Login", "indicator--url"),
        ("boss@evil.example", "indicator--email"),
        (SHA.lower(), "indicator--sha"),
    }
    assert Match(AT, "weather4free.com", "indicator--pegasus-1", ValueType.DOMAIN) in found


def test_typed_columns_counts_and_sighting_types(either_index: IndicatorIndex, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "typed.csv",
        "value,time,type,count,sighting\n"
        "Weather4Free.com.,2026-11-23T09:15:00Z,domain-name,7,false-positive\n"
        "198.51.100.7,2026-11-23T09:15:00Z,ip-dst,,\n"
        "2001:DB8::1,2026-11-23T09:15:00Z,IPv6-Addr,2,2\n"
        f"{SHA},2026-11-23T09:15:00Z,SHA256,,sighting\n",
    )
    found = either_index.match_file(path, Format.CSV, NOW)
    assert either_index.last_route == fast_route(either_index) and found == pure_matches(path, Format.CSV)
    assert [(m.key, m.count, m.sighting) for m in found] == [
        ("indicator--ip4", 1, SightingType.SIGHTING),
        ("indicator--ip6", 2, SightingType.EXPIRATION),
        ("indicator--sha", 1, SightingType.SIGHTING),
        ("indicator--pegasus-1", 7, SightingType.FALSE_POSITIVE),
    ]


def test_json_lines(index: IndicatorIndex, tmp_path: Path) -> None:
    lines = [
        {"value": "SMSCENTRO.COM.", "time": "2026-11-23T09:15:00Z", "count": 3, "host": "x"},
        {"value": "2001:db8:0::1", "time": 1763889300, "sighting": "false-positive"},
        {"value": "benign.example", "time": 1763889300.25, "type": None},
        {"value": "198.51.100.7", "time": "2026-11-23T09:15:00Z", "type": "ipv4-addr", "sighting": 2},
    ]
    path = write(tmp_path, "siem.jsonl", b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    found = index.match_file(path, Format.JSONL, NOW)
    assert index.last_route == "duckdb" and found == pure_matches(path, Format.JSONL)
    assert len(found) == 4


def test_json_string_values_with_and_without_escapes(index: IndicatorIndex, tmp_path: Path) -> None:
    """The engine reads a backslash-free JSON string by dropping its quotes and any other through the JSON
    parser: escaped letters, quotes and slashes, escaped and raw non-ASCII all decide as the core."""
    time = b'"time": "2026-11-23T09:15:00Z"'
    values = [
        rb'"\u0077eather4free.com"',  # an escaped w: matches
        rb'"smscentro.com\""',  # a quote inside: no match
        rb'"http:\/\/evil.example\/LOGIN"',  # escaped slashes: matches the URL
        rb'"\u00c4bc.example"',  # escaped non-ASCII: matches
        '"\u00c4bc.example"'.encode(),  # the same, raw UTF-8: matches
        b'"smscentro.com"',  # no escape: matches both its indicators
    ]
    lines = [b'{"value": ' + value + b", " + time + b"}" for value in values]
    path = write(tmp_path, "escapes.jsonl", b"\n".join(lines) + b"\n")
    found = index.match_file(path, Format.JSONL, NOW)
    assert index.last_route == "duckdb" and found == pure_matches(path, Format.JSONL)
    assert sorted(m.key for m in found) == [
        "indicator--non-ascii-upper",
        "indicator--non-ascii-upper",
        "indicator--pegasus-1",
        "indicator--pegasus-2",
        "indicator--pegasus-2b",
        "indicator--url-variant",
    ]


MALFORMED = [  # (format, file, lines the errors name)
    (Format.CSV, "time,value\n2026-11-23T09:15:00Z,weather4free.com\nnot-a-time,x.example\n", ["line 3:"]),
    (Format.CSV, "time,value\n2026-11-23T09:15:00Z,weather4free.com\n2030-01-01T00:00:00Z,x\n", ["line 3:"]),
    (Format.CSV, "time,value\n2026-11-23T09:15:00Z,weather4free.com\n2026-11-23T09:15:00Z\n", ["line 3:"]),
    (
        Format.CSV,
        'time,value\n2026-11-23T09:15:00Z,"weather4free.com\n2026-11-23T09:15:00Z,b"\n',
        ["line 2:"],
    ),
    (Format.CSV, "time,value\n2026-11-23T09:15:00Z,\n2026-02-30T00:00:00Z,a\n", ["line 2:", "line 3:"]),
    (Format.CSV, "time,value,type\n2026-11-23T09:15:00Z,1.2.3.999,ipv4-addr\n", ["line 2:"]),
    (
        Format.CSV,
        "time,value,type\n2026-11-23T09:15:00Z,::1,ipv4\n2026-11-23T09:15:00Z,a,ipv9\n",
        ["line 2:", "line 3:"],
    ),
    (Format.CSV, "time,value,count\n2026-11-23T09:15:00Z,weather4free.com,0\n", ["line 2:"]),
    (Format.CSV, "time,value,sighting\n2026-11-23T09:15:00Z,weather4free.com,4\n", ["line 2:"]),
    (Format.CSV, "time,value\n2026-11-23T24:00:00Z,weather4free.com\n", ["line 2:"]),
    (Format.CSV, "time,value\n1969-12-31T23:59:59Z,weather4free.com\n", ["line 2:"]),
    (Format.CSV, "when,value\n", ["line 1:"]),
    (Format.CSV, b"time,value\n2026-11-23T09:15:00Z,caf\xe9.example\n", ["line 2:"]),
    (
        Format.JSONL,
        '{"value": "weather4free.com", "time": "2026-11-23T09:15:00Z"}\n{"value": 5, "time": 1}\n',
        ["line 2:"],
    ),
    (
        Format.JSONL,
        '{"value": "weather4free.com", "time": -5}\n[]\n{"value": "a", "time": 1, "count": 0}\n',
        ["line 1:", "line 2:", "line 3:"],
    ),
    (
        Format.JSONL,
        '{"value": "a", "time": 1, "sighting": 3}\n{"value": "a", "time": true}\n{"value"\n',
        ["line 1:", "line 2:", "line 3:"],
    ),
]


@pytest.mark.parametrize(("fmt", "text", "expected"), MALFORMED)
def test_malformed_files_are_refused_whole_with_the_pure_parsers_errors(
    index: IndicatorIndex, tmp_path: Path, fmt: Format, text: str | bytes, expected: list[str]
) -> None:
    path = write(tmp_path, "bad", text)
    with pytest.raises(ObservationError) as engine:
        index.match_file(path, fmt, NOW)
    with pytest.raises(ObservationError) as pure:
        parse(path.read_bytes(), fmt, NOW)
    assert engine.value.errors == pure.value.errors
    assert [str(e).split(" ", 2)[0] + " " + str(e).split(" ", 2)[1] for e in engine.value.errors] == expected


def test_several_files_at_once_and_a_bad_one_named(index: IndicatorIndex, tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "time,value\n2026-11-23T09:15:00Z,weather4free.com\n")
    b = write(tmp_path, "b.csv", "value,time\nsmscentro.com,2026-11-23T09:15:00Z\n")
    assert len(index.match_files([a, b], Format.CSV, NOW)) == 3
    bad = write(tmp_path, "c.csv", "time,value\nlater,x\n")
    with pytest.raises(ObservationError, match=r"line 2: c\.csv: time 'later'"):
        index.match_files([a, bad], Format.CSV, NOW)


def test_files_over_the_size_limit_are_refused(index: IndicatorIndex, tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "time,value\n" + "2026-11-23T09:15:00Z,a.example\n" * 10)
    with pytest.raises(ObservationError, match="over the limit"):
        index.match_file(path, Format.CSV, NOW, Limits(max_bytes=100))
    with pytest.raises(ObservationError, match="line 2: the line is"):
        index.match_file(path, Format.CSV, NOW, Limits(max_line_length=20))


def test_where_duckdb_is_stricter_the_pure_answer_stands(index: IndicatorIndex, tmp_path: Path) -> None:
    """A JSON duplicate key DuckDB refuses and Python takes (the last wins): the engine answers as the core."""  # noqa: E501
    path = write(
        tmp_path, "dup.jsonl", '{"value": "x", "value": "weather4free.com", "time": "2026-11-23T09:15:00Z"}\n'
    )
    assert index.match_file(path, Format.JSONL, NOW) == pure_matches(path, Format.JSONL)
    assert index.last_route == "pure" and len(pure_matches(path, Format.JSONL)) == 1


@pytest.mark.parametrize("compiled_scan", [True, False])
def test_a_pair_added_twice_matches_once_on_every_route(tmp_path: Path, compiled_scan: bool) -> None:
    engine = IndicatorIndex([("weather4free.com", "indicator--a")] * 2, compiled_scan=compiled_scan)
    line = '"value": "weather4free.com", "time": "2026-11-23T09:15:00Z"'
    fast = write(tmp_path, "fast.jsonl", "{" + line + "}\n")
    pure = write(tmp_path, "pure.jsonl", '{"value": "x", ' + line + "}\n")  # a duplicate key: pure route
    found = [
        [m.key for m in engine.match_file(p, Format.JSONL, NOW)] + [engine.last_route] for p in (fast, pure)
    ]
    assert found == [["indicator--a", fast_route(engine)], ["indicator--a", "pure"]]


core = st.one_of(
    st.sampled_from([v for v, _ in INDICATORS]),
    st.text(alphabet="abcXYZ.-:@/019fF", min_size=1, max_size=12),
    st.sampled_from(["2001:DB8::1", "2001:db8:0::1", "::ffff:198.51.100.7", "WEATHER4FREE.COM.", SHA]),
    st.sampled_from(["\u00e4bc.example", "\u00c4BC.EXAMPLE.", "\u212a.example", "K.EXAMPLE.", "x.example.."]),
    st.sampled_from(["HTTP://EVIL.EXAMPLE/LOGIN", "http://Evil.Example/Login.", "http://x.example/a"]),
)
values = st.builds(
    lambda a, v, b: a + v + b, st.sampled_from(["", " ", "\t"]), core, st.sampled_from(["", ".", " "])
)
times = st.sampled_from(
    ["2026-11-23T09:15:00Z", "1763889300", "2026-11-23T09:15:00.123+01:00", " 2026-11-23T09:15:00Z"]
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(values, times), min_size=1, max_size=25))
def test_engine_and_pure_core_agree_on_generated_files(
    index: IndicatorIndex, tmp_path: Path, rows: list[tuple[str, str]]
) -> None:
    path = tmp_path / "gen.csv"
    text = "value,time\n" + "".join(f'"{v}",{t}\n' for v, t in rows)
    path.write_text(text)
    assert_engine_answers_as_the_core(index, path, Format.CSV)


json_scalars = st.one_of(
    st.integers(-5, 2**64 - 1), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none()
)
json_fields = {
    "value": st.one_of(values, values, json_scalars, st.just({"a": 1}), st.just(["x"])),
    "time": st.one_of(times, times, st.sampled_from([1763889300, 1763889300.5, -1, 0]), json_scalars),
    "type": st.one_of(st.sampled_from(["domain", "IPv6", "sha256", "ipv9", " url "]), json_scalars),
    "count": st.one_of(st.integers(-1, 2**40), st.sampled_from(["3", 2.0]), json_scalars),
    "sighting": st.one_of(st.sampled_from(["false-positive", "sighting", "x", 0, 2, 3]), json_scalars),
}
json_records = st.fixed_dictionaries(
    {"value": json_fields["value"], "time": json_fields["time"]},
    optional={k: v for k, v in json_fields.items() if k not in ("value", "time")},
)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(json_records, min_size=1, max_size=6))
def test_engine_and_pure_core_agree_on_generated_json_lines(
    index: IndicatorIndex, duckdb_index: IndicatorIndex, tmp_path: Path, records: list[dict[str, object]]
) -> None:
    """Every field of every JSON type (strings, numbers of every sign and size, booleans, null, objects,
    arrays): the engine's JSON checks decide as the pure parser does."""
    path = tmp_path / "gen.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    assert_engine_answers_as_the_core(index, path, Format.JSONL)
    assert_engine_answers_as_the_core(duckdb_index, path, Format.JSONL)


ONE_FAULT = [  # (field, JSON value): one field of one record, the rest of the file valid
    *[("value", v) for v in (5, 5.5, -1, True, None, {"a": 1}, ["x"], "", " ")],
    *[("time", v) for v in (-1, -1.5, True, None, {"a": 1}, [1], "x", 1e3, 2**63, "2026-11-23T24:00:00Z")],
    *[("type", v) for v in (5, True, {"a": 1}, ["url"], "ipv9", None, "")],
    *[("count", v) for v in (0, -1, 1.5, "3", True, 2**40, None)],
    *[("sighting", v) for v in (3, -1, "x", True, 1.0, None, "FALSE-POSITIVE")],
]


@pytest.mark.parametrize(("field", "fault"), ONE_FAULT)
def test_one_odd_json_field_is_decided_as_the_pure_parser_does(
    index: IndicatorIndex, tmp_path: Path, field: str, fault: object
) -> None:
    good = {"value": "weather4free.com", "time": "2026-11-23T09:15:00Z"}
    path = tmp_path / "odd.jsonl"
    path.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps({**good, field: fault}) + b"\n")
    assert_engine_answers_as_the_core(index, path, Format.JSONL)


@pytest.mark.parametrize("compiled_scan", [True, False])
def test_sample_normal_forms_agree_with_the_pure_core(tmp_path: Path, compiled_scan: bool) -> None:
    """Every normal form the engine computes (in SQL, or keys in the compiled scan), checked value by value
    against `normalise`."""
    sample = ["Evil.Example.", "EVIL.EXAMPLE", "a.b.c.", "ÄBC.example.", "HTTP://X/Y", "Boss@Evil.Example.",
              "198.51.100.7", "2001:DB8::1", SHA, "x:y", "deadbeef:1", "fe80::1%eth0"]  # fmt: skip
    rows = [(v, f"k{i}") for i, v in enumerate(sample)]
    engine = IndicatorIndex([(normalise(v).value, k) for v, k in rows], compiled_scan=compiled_scan)
    path = write(
        tmp_path, "sample.csv", "value,time\n" + "".join(f"{v},2026-11-23T09:15:00Z\n" for v in sample)
    )
    found = {m.key: m.value for m in engine.match_file(path, Format.CSV, NOW)}
    assert engine.last_route == fast_route(engine)
    assert found == {k: normalise(v).value for v, k in rows}


def test_values_sharing_a_join_key_match_only_where_the_core_says(
    either_index: IndicatorIndex, tmp_path: Path
) -> None:
    """The engine joins on DuckDB's lower(), which folds more than the core does: the exact check keeps
    only the core's matches (a case-variant URL, a non-ASCII capital, the Kelvin sign, a URL's dot)."""
    rows = [
        *("http://EVIL.example/login", "http://evil.example/LOGIN", "\u00e4bc.example", "\u00c4BC.example."),
        *("\u212a.example", "K.example", "http://x.example/a", "http://x.example/a.", "x.example.."),
    ]
    path = write(tmp_path, "keys.csv", "value,time\n" + "".join(f"{v},2026-11-23T09:15:00Z\n" for v in rows))
    found = either_index.match_file(path, Format.CSV, NOW)
    assert either_index.last_route == fast_route(either_index)
    assert found == pure_matches(path, Format.CSV)
    assert [(m.value, m.key) for m in found] == [
        ("http://evil.example/LOGIN", "indicator--url-variant"),
        ("http://x.example/a.", "indicator--url-dot"),
        ("k.example", "indicator--ascii-k"),
        ("\u00c4bc.example", "indicator--non-ascii-upper"),
    ]


def _edit(text: str, edits: list[tuple[int, int, str]]) -> str:
    """`text` with each (operation, position, character) applied: 0 deletes, 1 inserts, 2 replaces."""
    chars = list(text)
    for op, at, char in edits:
        i = at % (len(chars) + 1)
        if op == 0 and chars:
            del chars[min(i, len(chars) - 1)]
        elif op == 1:
            chars.insert(i, char)
        elif chars:
            chars[min(i, len(chars) - 1)] = char
    return "".join(chars)


TIME_CHARS = "0123456789-:TZtz +.\t\u0663\uff11"  # with an Arabic-Indic and a full-width digit
edited_times = st.builds(
    _edit,
    st.sampled_from(
        ["2026-11-23T09:15:07Z", "1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "2026-11-23T12:04:59Z"]
    ),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 21), st.sampled_from(TIME_CHARS)), max_size=3),
)


# Texts a lenient parse takes (DuckDB's cast: the first four; its strptime: those with a blank first).
NEAR_MISSES = [
    *("2026-11-23T24:00:00Z", "2026-11-23T 9:15:07Z", "2026-11-23T09:1 :07Z", "2026-11-23T09:15: 7Z"),
    *(" 2026-1-23T09:15:07Z", " 026-11-23T09:15:07Z", "\t2026-11-23T9:15:07Z", "+2026-11-23T9:15:07Z"),
    *("19701-1-23T09:15:07Z", "2026-11-23T09:15:07z", "2025-02-29T09:15:07Z", "2026-11-23T23:59:60Z"),
]


def _pure_accepts(text: str) -> bool:
    try:
        check_time(parse_time(text), NOW, DEFAULT_LIMITS)
    except ValueError:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(st.lists(edited_times, min_size=1, max_size=60))
def test_time_texts_sql_accepts_are_the_pure_parsers(texts: list[str]) -> None:
    """The engine's SQL time check (no pattern match, see `_time_sql`) passes a time only where the pure
    parser accepts it: near misses of the common shape, blanks, signs, non-ASCII digits, impossible dates."""
    texts = [*texts, *NEAR_MISSES]
    sql = f"SELECT t, {_time_sql('t', NOW, DEFAULT_LIMITS)} FROM (SELECT unnest($1) AS t)"
    with duckdb.connect() as db:
        suspect = dict(db.execute(sql, [texts]).fetchall())
    assert [t for t in texts if not suspect[t] and not _pure_accepts(t)] == []
    assert all(not suspect[t] for t in texts if len(t) == 20 and _pure_accepts(t) and t.endswith("Z"))


def test_values_that_lower_to_a_sentinel_key_are_matched_as_the_core_says(tmp_path: Path) -> None:
    """The engine's internal join keys for suspect and Python rows are NUL-prefixed; a value that lowers to
    one still matches its indicator (or the file goes to the pure core), never silently nothing."""
    pairs = [("\x00p", "indicator--nul-p"), ("\x00s", "indicator--nul-s"), ("a.example", "indicator--a")]
    engine = IndicatorIndex(pairs)
    python = write(
        tmp_path, "nul-p.csv", "value,time\n\x00P,2026-11-23T09:15:00Z\na.example,2026-11-23T09:15:00Z\n"
    )
    assert [m.key for m in engine.match_file(python, Format.CSV, NOW)] == ["indicator--nul-p", "indicator--a"]
    assert engine.last_route == "duckdb"
    suspect = write(tmp_path, "nul-s.csv", "value,time\n\x00S,2026-11-23T09:15:00Z\n")
    assert [m.key for m in engine.match_file(suspect, Format.CSV, NOW)] == ["indicator--nul-s"]


# Plain CSV files (no quotes), as sensors write them: the compiled scan's domain.
plain_times = st.one_of(
    st.sampled_from(["2026-11-23T09:15:00Z", "2026-11-23T12:04:59Z", "2024-02-29T23:59:59Z"]),
    st.sampled_from(["2026-11-23T12:05:00Z", "1763889300", "2026-11-23T09:15:00.5Z", "2026-02-30T00:00:00Z"]),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(values, plain_times, st.sampled_from(["", "sensor-1", "é"])), min_size=1, max_size=25
    ),
    value_first=st.booleans(),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_scan_and_pure_core_agree_on_generated_plain_files(
    index: IndicatorIndex,
    duckdb_index: IndicatorIndex,
    tmp_path: Path,
    rows: list[tuple[str, str, str]],
    value_first: bool,
    crlf: bool,
    bom: bool,
) -> None:
    """Files the compiled scan reads: either route answers as the core; a file the pure parser accepts
    whose times all have the common shape is answered by the scan itself."""
    end = "\r\n" if crlf else "\n"
    header, line = ("value,time,src", "{0},{1},{2}") if value_first else ("time,src,value", "{1},{2},{0}")
    text = ("\ufeff" if bom else "") + header + end + "".join(line.format(*r) + end for r in rows)
    path = tmp_path / "plain.csv"
    path.write_bytes(text.encode())
    for engine in (index, duckdb_index):
        assert_engine_answers_as_the_core(engine, path, Format.CSV)
    common = all(len(t) == 20 and t.endswith("Z") for _, t, _ in rows)
    try:
        parse(path.read_bytes(), Format.CSV, NOW)
    except ObservationError:
        return
    if common:
        index.match_file(path, Format.CSV, NOW)
        assert index.last_route == "scan"


def test_files_cut_into_pieces_for_the_threads_answer_as_whole(
    index: IndicatorIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan cuts files into pieces at line ends; with tiny pieces every line is near a cut."""
    monkeypatch.setattr("gesher.warning_service.matching._PIECE", 50)
    names = ["weather4free.com", "benign.example", "SMSCENTRO.COM.", "x", "2001:db8::1", "198.51.100.7"]
    lines = [f"2026-11-23T09:{i % 60:02d}:00Z,{names[i % len(names)]}\n" for i in range(300)]
    path = write(tmp_path, "cut.csv", "time,value\n" + "".join(lines))
    found = index.match_file(path, Format.CSV, NOW)
    assert index.last_route == "scan" and found == pure_matches(path, Format.CSV)
    assert len(found) == 250  # 50 lines of each of four values, smscentro.com with two keys
    assert index.match_files([path, path], Format.CSV, NOW) == sorted(found + found)
    # A line too long for the limit where a cut falls: the pure parser's refusal, line-precise.
    long = write(
        tmp_path, "long.csv", "time,value\n" + "".join(lines[:3]) + "2026-11-23T09:15:00Z," + "a" * 80
    )
    with pytest.raises(ObservationError, match="line 5: the line is"):
        index.match_file(long, Format.CSV, NOW, Limits(max_line_length=60))


def test_more_lines_to_look_at_than_room_takes_the_duckdb_route(
    index: IndicatorIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gesher.warning_service.matching._LISTED", 2)
    path = write(tmp_path, "many.csv", "time,value\n" + "2026-11-23T09:15:00Z,weather4free.com\n" * 3)
    found = index.match_file(path, Format.CSV, NOW)
    assert index.last_route == "duckdb" and found == pure_matches(path, Format.CSV) and len(found) == 3


def test_indicators_added_later_are_found_by_the_scan(tmp_path: Path) -> None:
    engine = IndicatorIndex([("a.example", "indicator--a")])
    path = write(
        tmp_path, "later.csv", "time,value\n2026-11-23T09:15:00Z,A.example\n2026-11-23T09:15:00Z,b.example\n"
    )
    assert [m.key for m in engine.match_file(path, Format.CSV, NOW)] == ["indicator--a"]
    engine.add([("b.example", "indicator--b")])
    assert [m.key for m in engine.match_file(path, Format.CSV, NOW)] == ["indicator--a", "indicator--b"]
    assert engine.last_route == "scan"


@pytest.mark.parametrize(
    "line",
    [
        '2026-11-23T09:15:00Z,"weather4free.com"',  # a quote: DuckDB reads quoted fields
        "2026-11-23T09:15:00Z,weather4free.com\rx",  # a stray carriage return
        "2026-11-23T09:15:00+00:00,weather4free.com",  # another time shape
        "2026-11-23T09:15:00Z,weather4free.com,extra",  # a field too many
        "",  # a blank line, which the pure parser skips
    ],
)
def test_lines_the_scan_is_not_sure_of_go_to_the_slower_routes(
    index: IndicatorIndex, tmp_path: Path, line: str
) -> None:
    path = write(tmp_path, "odd.csv", f"time,value\n2026-11-23T09:15:00Z,smscentro.com\n{line}\n")
    assert_engine_answers_as_the_core(index, path, Format.CSV)
    assert index.last_route != "scan"


# JSON text as exporters write it, and near misses of it, for the compiled scan's JSON reading.
json_keys = st.sampled_from(
    ["time", "value", "value", "src", "port", "Time", "type", "count", "sighting", "\u00e9", "va\\u006cue"]
)
json_texts = st.one_of(
    st.builds(lambda t: f'"{t}"', st.one_of(plain_times, values)),
    st.sampled_from(
        ["443", "-1", "0", "01", "1.5", "-0.25", "1e3", "-", "1.", "123456789012345678901", "2."]
    ),
    st.sampled_from(["true", "false", "null", "nul", "True", "{}", "[]", '"a\\"b"', '"\t"', '""']),
    st.sampled_from(['"domain"', '"IPv4"', '"ip-dst"', '"md5"', '"ipv9"', '" url "']),  # for "type"
    st.sampled_from(
        ['"false-positive"', '" 2"', '"3"', "2", "3", "999999999", "1000000000"]
    ),  # and the others
)
blank = st.sampled_from(["", "", " ", "\t"])


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(json_keys, json_texts, blank, blank), min_size=0, max_size=5))
    if draw(st.booleans()):  # most lines have the two keys a sensor writes
        pairs += [("time", f'"{draw(plain_times)}"', "", ""), ("value", f'"{draw(values)}"', "", " ")]
    order = draw(st.permutations(pairs))
    body = ",".join(f'{a}"{k}"{b}:{a}{v}{b}' for k, v, a, b in order)
    return draw(blank) + "{" + body + "}" + draw(blank) + draw(st.sampled_from(["\n", "\n", "\r\n"]))


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(json_lines(), min_size=1, max_size=8))
def test_scan_and_pure_core_agree_on_generated_json_text(
    index: IndicatorIndex, tmp_path: Path, lines: list[str]
) -> None:
    """Blanks, key orders, duplicate and escaped keys, numbers JSON allows and refuses, literals, nested
    values, escapes: the compiled scan's reading of JSON text decides as orjson and the core do."""
    path = tmp_path / "gen.jsonl"
    path.write_bytes("".join(lines).encode())
    assert_engine_answers_as_the_core(index, path, Format.JSONL)


def test_plain_json_lines_are_read_by_the_scan(index: IndicatorIndex, tmp_path: Path) -> None:
    lines = [
        '{"time":"2026-11-23T09:15:00Z","value":"SMSCENTRO.COM."}',
        '  {  "value" : "benign.example" , "port": 443, "ok": true, "x": null, "t": -0.5 ,'
        ' "time":"2026-11-23T09:15:00Z"}',
        '{"src": "caf\u00e9", "value": "2001:DB8::1", "time": "2026-11-23T09:15:00Z"}\r',
        '{"time": "2026-11-23T09:15:00Z", "value": "\u00c4bc.example"}',
    ]
    path = write(tmp_path, "plain.jsonl", "\n".join(lines))
    found = index.match_file(path, Format.JSONL, NOW)
    assert index.last_route == "scan" and found == pure_matches(path, Format.JSONL)
    assert [m.key for m in found] == [
        "indicator--ip6",
        "indicator--pegasus-2",
        "indicator--pegasus-2b",
        "indicator--non-ascii-upper",
    ]


@pytest.mark.parametrize(
    "tail",
    ['{"time', '{"time": "2026', '{"value": "a", "time": "2026-11-23T09:15:00Z"', '{"value": tru', '{"a": -'],
)
def test_json_cut_short_at_the_end_of_the_file(index: IndicatorIndex, tmp_path: Path, tail: str) -> None:
    """A last line cut off mid-token (an export interrupted): the scan stops at the file's end, never past
    it, and the file is refused as the pure parser refuses it."""
    path = write(tmp_path, "cut.jsonl", '{"value": "smscentro.com", "time": "2026-11-23T09:15:00Z"}\n' + tail)
    assert_engine_answers_as_the_core(index, path, Format.JSONL)
    assert index.last_route == "pure"


declared_types = st.one_of(
    st.sampled_from(
        ["", " ", "domain", "Domain-Name", " url ", "ipv4", "IP-DST", "ip", "ipv6-addr", "email"]
    ),
    st.sampled_from(["md5", "SHA256", "sha-1", "sha512", "hostname", "ipv9", "IPv4-Addr", "e\u0301mail"]),
)
typed_values = st.one_of(
    values,
    st.sampled_from(["198.51.100.7", "198.051.100.7", "256.1.1.1", "1.2.3", "0.0.0.0", "1.2.3.4.", "::1"]),
    st.sampled_from(
        [SHA, SHA[:40], SHA[:32], SHA[:31] + "g", SHA + SHA, "Boss@Evil.Example", "boss.example"]
    ),
)


counts = st.sampled_from(["", " 7", "1", "0", "007", "999999999", "1000000000", "-1", "1.5", "x", "\u0663"])
sighting_types = st.sampled_from(
    ["", "0", "2", "3", "sighting", "false-positive", " expiration ", "Sighting", "x", "\u0661"]
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(typed_values, plain_times, declared_types, counts, sighting_types), min_size=1, max_size=20
    )
)
def test_scan_and_pure_core_agree_on_generated_typed_files(
    index: IndicatorIndex,
    duckdb_index: IndicatorIndex,
    tmp_path: Path,
    rows: list[tuple[str, str, str, str, str]],
) -> None:
    """Declared types (every alias, any case, blanks, unknown names) with values that pass or fail their
    type's rule, counts and sighting types good and bad: either route answers as the core, and the scan
    answers itself for every file the pure parser accepts whose times have the common shape."""
    path = tmp_path / "typed.csv"
    text = "sighting,type,time,count,value\n" + "".join(f"{s},{ty},{t},{c},{v}\n" for v, t, ty, c, s in rows)
    path.write_bytes(text.encode())
    for engine in (index, duckdb_index):
        assert_engine_answers_as_the_core(engine, path, Format.CSV)
    try:
        parse(path.read_bytes(), Format.CSV, NOW)
    except ObservationError:
        return
    if all(len(t) == 20 and t.endswith("Z") for _, t, *_ in rows):
        index.match_file(path, Format.CSV, NOW)
        assert index.last_route == "scan"


def test_typed_json_lines_are_read_by_the_scan(index: IndicatorIndex, tmp_path: Path) -> None:
    lines = [
        '{"time": "2026-11-23T09:15:00Z", "value": "198.51.100.7", "type": "ip-dst"}',
        f'{{"time": "2026-11-23T09:15:00Z", "value": "{SHA}", "type": "SHA256"}}',
        '{"time": "2026-11-23T09:15:00Z", "value": "2001:DB8::1", "type": "ipv6"}',
        '{"time": "2026-11-23T09:15:00Z", "value": "smscentro.com", "type": null}',
    ]
    path = write(tmp_path, "typed.jsonl", "\n".join(lines) + "\n")
    found = index.match_file(path, Format.JSONL, NOW)
    assert index.last_route == "scan" and found == pure_matches(path, Format.JSONL)
    assert len(found) == 5
    bad = write(
        tmp_path, "bad.jsonl", '{"time": "2026-11-23T09:15:00Z", "value": "1.2.3.04", "type": "ipv4"}\n'
    )
    assert_engine_answers_as_the_core(index, bad, Format.JSONL)
    assert index.last_route == "pure"
