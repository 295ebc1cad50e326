"""The matching engine: raw observation files against the indicator values (issue 7, "Performance":
>= 10,000,000 observed values/s against 1,000,000 indicators, file to matches).

Python cannot do this at that rate (a set manages ~3M lookups/s, and merely turning 10M values into
Python strings costs seconds), so the files never become Python objects. Three routes, each answering as
the pure core (`gesher.warning.observations`) would, the first that is sure answers:

1. the compiled scan (`gesher.warning.observation_scan`, ~2x DuckDB's rate) for plain files: CSV
   without quotes, or JSON lines of flat objects without escapes, times in the common shape; it lists
   the few lines that may match, which the pure core then parses and the indicator table decides
   exactly;
2. DuckDB, for every file the pure parser accepts (below);
3. the pure parser itself, which refuses a bad file with its line-precise errors.

On the DuckDB route, DuckDB reads the files natively (`read_csv` / `read_json`, in parallel), and
hash-joins each value's join key against the indicator table's. The join key is cheap on purpose:
DuckDB's own `lower()` with one trailing dot dropped, on both sides (the indicator side keeps a second key
without its trailing dot), so that every value the pure core would match joins (a superset: `lower()` also
folds non-ASCII letters, which the core's normal form keeps). Only three kinds of rows come back to Python:

- candidates, rebuilt through the pure core (`csv_observation` / `json_observation`) and kept where the
  core's normal form equals the indicator value exactly, so a match's value, type and time are the pure
  parser's;
- values that might be IPv6 addresses (`values.IPV6_SHAPE`): canonicalised by Python's `ipaddress`,
  which SQL cannot do, and looked up among the indicator values with a colon;
- rows SQL considers suspect: any failed check of the pure rules, conservatively (a time within a second
  of the future limit is suspect too). One suspect row and the engine hands the whole file to the pure
  parser, which either refuses it with its line-precise errors (nothing is returned) or, where SQL was
  only being careful, accepts it; the match is then done from the parsed observations. Either way the
  result is what the pure core decides.

Values that match return as `Match` (value, type, time, indicator key, count, sighting type), sorted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from operator import attrgetter
from pathlib import Path
from typing import Any, Final

import duckdb
import numpy as np
import orjson

from gesher.warning import observation_scan
from gesher.warning.errors import LineError, ObservationError
from gesher.warning.observations import (
    COUNT_SHAPE,
    DEFAULT_LIMITS,
    EPOCH_SHAPE,
    MAX_COUNT,
    RFC3339_SHAPE,
    SIGHTING_NAMES,
    Format,
    Limits,
    Observation,
    SightingType,
    csv_columns,
    csv_observation,
    json_observation,
    parse,
)
from gesher.warning.values import HASH_LENGTHS, HEX_SHAPE, IPV4_SHAPE, IPV6_SHAPE, TYPE_NAMES, ValueType

_FETCH: Final = 10_000
# The compiled scan's pieces of a file (one task each, shared among the threads) and how many lines a
# piece may list for Python to look at (more, and the file takes the DuckDB route, made for that).
_PIECE: Final = 16 << 20
_LISTED: Final = 1 << 16
_SCAN_ORDER: Final = ("time", "value", "type", "count", "sighting")  # the CSV columns `scan_csv` takes
# Sentinel join keys of the rows Python must normalise (a possible IPv6 address) and of the rows SQL
# considers suspect; the indicator table has a row of each, so that one semi join lets through every row
# Python needs. A value whose key hashes as a sentinel's is merely handed to Python or the pure core.
_PYTHON, _SUSPECT = "\x00p", "\x00s"
# Each indicator value with its join key (DuckDB's lower(), as the observed values get), and a second key
# without a trailing dot: an observed value's key loses one trailing dot whatever its type, while a URL's
# normal form keeps it. The join is a semi join on the key's 64-bit hash, so that DuckDB's hash table holds
# only the 1M hashes (building it with the values and keys as payload cost more than the lookup of the few
# candidates' rows afterwards); Python then keeps a candidate only where its normal form equals the value.
_INSERT: Final = """
    INSERT INTO indicator
    SELECT hash(jkey), jkey, ivalue, ikey
    FROM (SELECT unnest(CASE WHEN ends_with(lv, '.') THEN [lv, left(lv, -1)] ELSE [lv] END) AS jkey,
                 ivalue, ikey
          FROM (SELECT lower(ivalue) AS lv, ivalue, ikey
                FROM (SELECT unnest($1) AS ivalue, unnest($2) AS ikey)))
"""


@dataclass(frozen=True, order=True)
class Match:
    """An observed value that equals an indicator value: when, the value and its type, the indicator key
    it matched, how often it was seen and which kind of sighting it was."""

    time: datetime
    value: str
    key: str
    type: ValueType
    count: int = 1
    sighting: SightingType = SightingType.SIGHTING


# The dataclass order as a key of C-compared tuples: sorting with the generated __lt__ costs 4x more.
_ORDER: Final = attrgetter("time", "value", "key", "type", "count", "sighting")


def _sorted(matches: Iterable[Match]) -> list[Match]:
    return sorted(matches, key=_ORDER)


class IndicatorIndex:
    """Indicator values (normal form, as `gesher.warning.indicators.match_keys` gives them) with their
    keys, in DuckDB; one value may have several keys. Not thread-safe: one index per worker."""

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]] = (),
        *,
        threads: int | None = None,
        compiled_scan: bool = True,
    ) -> None:
        """`threads`: how many cores a call may use (default: all); `compiled_scan=False` leaves out the
        compiled scan of plain files (tests of the DuckDB route use it)."""
        self._threads = threads or os.cpu_count() or 1
        self.compiled_scan = compiled_scan
        self._keys = observation_scan.KeyTable()
        self._db = duckdb.connect(":memory:")
        if threads is not None:
            self._db.execute(f"SET threads = {int(threads)}")
        self._db.execute("SET preserve_insertion_order = false")
        # DuckDB cannot estimate a file's rows without reading it (it guesses ~170) and would build the
        # hash join on the file's millions of rows; built as written, on the indicator table, it probes.
        self._db.execute("SET disabled_optimizers = 'build_side_probe_side'")
        self._db.execute(
            "CREATE TABLE indicator (h UBIGINT NOT NULL, jkey VARCHAR NOT NULL, ivalue VARCHAR NOT NULL, "
            "ikey VARCHAR NOT NULL)"
        )
        self._db.execute(
            "INSERT INTO indicator SELECT hash(k), k, '', '' FROM (SELECT unnest($1) AS k)",
            [[_PYTHON, _SUSPECT]],
        )
        self._python_hash, self._suspect_hash = self._db.execute(
            "SELECT hash($1), hash($2)", [_PYTHON, _SUSPECT]
        ).fetchone() or (0, 0)
        self._colon: dict[str, list[str]] = {}
        self._size = 0
        # "scan", "duckdb" or "pure": how the last call was answered (diagnostics, tests)
        self.last_route = ""
        self.add(pairs)

    def add(self, pairs: Iterable[tuple[str, str]], batch: int = 250_000) -> None:
        """Add (normalised value, key) pairs, in batches."""
        values: list[str] = []
        keys: list[str] = []
        for value, key in pairs:
            values.append(value)
            keys.append(key)
            if ":" in value and "://" not in value:
                self._colon.setdefault(value, []).append(key)
            if len(values) >= batch:
                self._insert(values, keys)
                values, keys = [], []
        self._insert(values, keys)
        self._keys.arrays()  # the compiled scan's table, built once for the whole addition

    def __len__(self) -> int:
        return self._size

    def close(self) -> None:
        """Release DuckDB's memory."""
        self._db.close()

    def match_file(
        self, path: str | Path, fmt: Format | str, now: datetime, limits: Limits = DEFAULT_LIMITS
    ) -> list[Match]:
        """The matches in one observation file, or `ObservationError` (the pure parser's) refusing it."""
        return self.match_files([path], fmt, now, limits)

    def match_files(
        self, paths: Sequence[str | Path], fmt: Format | str, now: datetime, limits: Limits = DEFAULT_LIMITS
    ) -> list[Match]:
        """The matches in several files of one format, read together; `ObservationError` if any is refused
        (its reasons name the file when there are several)."""
        files = [Path(p) for p in paths]
        for f in files:
            if f.stat().st_size > limits.max_bytes:
                return self._pure(files, Format(fmt), now, limits)
        if not files:
            return []
        if Format(fmt) is Format.CSV:
            groups = _by_header(files, limits)
            if groups is None:
                return self._pure(files, Format.CSV, now, limits)
            found: list[Match] = []
            for columns, group in groups.items():
                result = self._scanned(group, columns, now, limits)
                if result is None:
                    paths = [path for path, _ in group]
                    result = self._fast(
                        _csv_query(paths, columns, now, limits), _CsvRows(columns), now, limits
                    )
                if result is None:
                    return self._pure(files, Format.CSV, now, limits)
                found += result
            return _sorted(found)
        result = self._scanned([(f, _bom_length(f)) for f in files], None, now, limits)
        if result is None:
            result = self._fast(_json_query(files, now, limits), _JsonRows(), now, limits)
        return _sorted(result) if result is not None else self._pure(files, Format.JSONL, now, limits)

    def _insert(self, values: list[str], keys: list[str]) -> None:
        if values:
            self._db.execute(_INSERT, [values, keys])
            self._keys.add(values)
            self._size += len(values)

    def _scanned(
        self,
        files: list[tuple[Path, int]],
        columns: tuple[str | None, ...] | None,
        now: datetime,
        limits: Limits,
    ) -> list[Match] | None:
        """The matches in files through the compiled scan (`observation_scan`): CSV files of one header
        (`columns`) or JSON lines (None), each read from the given offset. None when the scan does not
        apply or finds a line it is not sure of (the DuckDB route then decides)."""
        latest = observation_scan.time_ordinal(
            f"{(now + limits.clock_skew).astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        )
        if not self.compiled_scan or latest < 0:
            return None
        pieces: list[tuple[Any, int, int]] = []
        for path, start in files:
            if path.stat().st_size <= start:
                continue
            try:  # the scan's bounds are the mapping's, whatever the file became since
                data = np.memmap(path, np.uint8, mode="r")
            except (OSError, ValueError):
                return None
            bounds = _piece_bounds(data, start, data.size, limits.max_line_length)
            if bounds is None:
                return None
            pieces += [(data, a, b) for a, b in pairwise(bounds)]
        self._keys.arrays()  # built (if anything was added since) here, once, not by the threads
        max_line = limits.max_line_length
        at = [columns.index(c) if c in columns else -1 for c in _SCAN_ORDER] if columns is not None else []

        def scan(piece: tuple[Any, int, int]) -> tuple[observation_scan.Status, list[bytes]]:
            data, start, end = piece
            out = np.empty((_LISTED, 2), np.int64)
            if columns is None:
                status, listed = observation_scan.scan_jsonl(
                    data, start, end, latest, max_line, self._keys, out
                )
            else:
                status, listed = observation_scan.scan_csv(
                    data, start, end, len(columns), at, latest, max_line, self._keys, out
                )
            return status, [bytes(data[a:b]) for a, b in out[:listed].tolist()]

        with ThreadPoolExecutor(self._threads) as pool:
            results = list(pool.map(scan, pieces))
        observations: list[Observation] = []
        for status, lines in results:
            if status is not observation_scan.Status.CLEAN:
                return None
            try:
                observations += (_listed_observation(line, columns, now, limits) for line in lines)
            except ValueError:  # not UTF-8, or a value the pure core refuses: the slower routes say why
                return None
        self.last_route = "scan"
        return self._lookup(observations)

    def _fast(self, sql: str, rows: _Rows, now: datetime, limits: Limits) -> list[Match] | None:
        """Run the query; the matches, or None as soon as a row is suspect (or DuckDB refuses a file)."""
        self.last_route = "duckdb"
        candidates: list[tuple[Observation, int]] = []
        try:
            cursor = self._db.execute(sql)
            while batch := cursor.fetchmany(_FETCH):
                for *raw, h in batch:
                    if h == self._suspect_hash:
                        return None
                    candidates.append((rows.observation(tuple(raw), now, limits), h))
        except (duckdb.Error, ValueError):
            return None
        if not candidates:
            return []
        # The indicator rows of the candidates' hashes: a handful of the million, looked up once.
        hits = self._db.execute(
            "SELECT h, ivalue, ikey FROM indicator WHERE ivalue <> '' AND h IN (SELECT unnest($1))",
            [list({h for _, h in candidates})],
        ).fetchall()
        by_hash: dict[int, set[tuple[str, str]]] = {}
        for h, value, key in hits:
            by_hash.setdefault(h, set()).add((value, key))
        found: list[Match] = []
        for o, h in candidates:
            # The join key's candidates are a superset (and hashes may collide): equal normal forms only.
            keys = [key for value, key in by_hash.get(h, ()) if value == o.value]
            if h == self._python_hash:
                keys += self._colon.get(o.value, [])
            found += (Match(o.time, o.value, key, o.type, o.count, o.sighting) for key in keys)
        return found

    def _pure(self, files: list[Path], fmt: Format, now: datetime, limits: Limits) -> list[Match]:
        """The pure parser on every file (refusing with its errors), then the lookup in DuckDB."""
        self.last_route = "pure"
        observations: list[Observation] = []
        for f in files:
            try:
                observations += parse(f.read_bytes(), fmt, now, limits)
            except ObservationError as error:
                if len(files) == 1:
                    raise
                named = [LineError(e.line, f"{f.name}: {e.reason}") for e in error.errors]
                raise ObservationError(named, error.total) from None
        return self._lookup(observations)

    def _lookup(self, observations: list[Observation]) -> list[Match]:
        values = sorted({o.value for o in observations})
        hits = self._db.execute(
            # One row per pair: its key equal to its lowered value (the other, if any, lacks a dot); a pair
            # added twice is one pair, as on the fast route.
            "SELECT DISTINCT ivalue, ikey FROM indicator WHERE jkey = lower(ivalue) "
            "AND ivalue IN (SELECT unnest($1))",
            [values],
        ).fetchall()
        keys: dict[str, list[str]] = {}
        for value, key in hits:
            keys.setdefault(value, []).append(key)
        return _sorted(
            Match(o.time, o.value, key, o.type, o.count, o.sighting)
            for o in observations
            for key in keys.get(o.value, ())
        )


class _Rows:
    """Turns the query's raw fields back into observations through the pure core (ValueError if it
    refuses them)."""

    def observation(self, raw: tuple[Any, ...], now: datetime, limits: Limits) -> Observation:
        raise NotImplementedError


class _CsvRows(_Rows):
    def __init__(self, columns: tuple[str | None, ...]) -> None:
        self.known = [c for c in columns if c is not None]

    def observation(self, raw: tuple[Any, ...], now: datetime, limits: Limits) -> Observation:
        return csv_observation(dict(zip(self.known, raw, strict=True)), 0, now, limits)


class _JsonRows(_Rows):
    def observation(self, raw: tuple[Any, ...], now: datetime, limits: Limits) -> Observation:
        record = {
            name: orjson.loads(text) for name, text in zip(_JSON_KEYS, raw, strict=True) if text is not None
        }
        return json_observation(record, 0, now, limits)


_JSON_KEYS: Final = ("value", "time", "type", "count", "sighting")


def _listed_observation(
    line: bytes, columns: tuple[str | None, ...] | None, now: datetime, limits: Limits
) -> Observation:
    """A line the compiled scan listed, through the pure core (ValueError if it refuses it). The scan
    passed only CSV lines without quotes and JSON objects, so splitting and `orjson` read them whole."""
    if columns is not None:
        return csv_observation(
            dict(zip(columns, line.decode("utf-8").split(","), strict=True)), 0, now, limits
        )
    record = orjson.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return json_observation(record, 0, now, limits)


def _bom_length(path: Path) -> int:
    with path.open("rb") as handle:
        return 3 if handle.read(3) == b"\xef\xbb\xbf" else 0


def _by_header(
    files: list[Path], limits: Limits
) -> dict[tuple[str | None, ...], list[tuple[Path, int]]] | None:
    """Files grouped by their header's columns, each with the offset of its first line after the header;
    None if a header is not one the pure parser accepts."""
    groups: dict[tuple[str | None, ...], list[tuple[Path, int]]] = {}
    for f in files:
        with f.open("rb") as handle:
            first = handle.readline(limits.max_line_length + 3)
        try:
            text = first.removeprefix(b"\xef\xbb\xbf").rstrip(b"\n").removesuffix(b"\r").decode("utf-8")
            columns = csv_columns(text) if text.strip(" \t") else None
        except (UnicodeDecodeError, ValueError):
            return None
        if columns is None or len(first) > limits.max_line_length:
            return None
        groups.setdefault(columns, []).append((f, len(first) if first.endswith(b"\n") else f.stat().st_size))
    return groups


def _piece_bounds(data: Any, start: int, end: int, max_line: int) -> list[int] | None:
    """Offsets cutting data[start:end] into pieces of about `_PIECE` bytes, each after a newline; None if
    a cut finds no newline within a line's longest length (that line is too long for the pure parser)."""
    bounds = [start]
    cut = start + _PIECE
    while cut < end:
        newlines = np.flatnonzero(data[cut : cut + max_line + 2] == 10)
        if newlines.size == 0:
            return None
        bounds.append(cut + int(newlines[0]) + 1)
        cut = bounds[-1] + _PIECE
    return [*bounds, end] if bounds[-1] < end else bounds


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _sentinel(key: str) -> str:
    """A sentinel key in SQL (its NUL spelled as chr(0), never inside the query's text)."""
    return f"chr(0) || {_lit(key.removeprefix(chr(0)))}"


def _paths(files: Sequence[Path]) -> str:
    return "[" + ", ".join(_lit(str(f)) for f in files) + "]"


def _strip(x: str) -> str:
    """SQL for Python's `x.strip(' \\t')`, paying for trim only where there is something to strip."""
    return f"CASE WHEN contains({x}, ' ') OR contains({x}, chr(9)) THEN trim({x}, ' ' || chr(9)) ELSE {x} END"


def _regex(x: str, shape: str) -> str:
    return f"regexp_full_match({x}, {_lit(shape)})"


def _type_sql(t: str) -> str:
    """The canonical type name of a declared type (NULL: none declared; '?': unknown)."""
    lowered = f"CASE WHEN strlen({t}) = length({t}) THEN lower({t}) ELSE chr(0) END"
    cases = []
    for name in {str(v) for v in TYPE_NAMES.values()}:
        aliases = ", ".join(_lit(a) for a, v in TYPE_NAMES.items() if str(v) == name)
        cases.append(f"WHEN {lowered} IN ({aliases}) THEN {_lit(name)}")
    return f"CASE WHEN {t} IS NULL OR {t} = '' THEN NULL {' '.join(cases)} ELSE '?' END"


def _value_sql(typed: bool) -> tuple[str, str]:
    """SQL over `v` (the stripped value) and `ty` (the declared type): (the row is Python's, as the value
    may be an IPv6 address; the value is not of its declared type)."""
    # The rare colon first: each test runs only on the rows the previous one let through.
    maybe_ipv6 = f"contains(v, ':') AND NOT contains(v, '://') AND {_regex('v', IPV6_SHAPE)}"
    if not typed:
        return maybe_ipv6, "false"
    python = (
        f"(ty IS NULL AND {maybe_ipv6}) OR (ty NOT IN "
        "('domain-name', 'email-addr', 'url', 'ipv4-addr') AND (ty = 'ipv6-addr' OR contains(v, ':')))"
    )
    hashes = " ".join(
        f"WHEN {_lit(str(h))} THEN NOT (strlen(v) = {n} AND {_regex('v', HEX_SHAPE)})"
        for h, n in HASH_LENGTHS.items()
    )
    bad = (
        f"CASE ty WHEN '?' THEN true WHEN 'email-addr' THEN NOT contains(v, '@') "
        f"WHEN 'ipv4-addr' THEN NOT {_regex('v', IPV4_SHAPE)} "
        f"WHEN 'ip' THEN NOT (contains(v, ':') OR {_regex('v', IPV4_SHAPE)}) {hashes} ELSE false END"
    )
    return python, f"coalesce({bad}, false)"


def _time_sql(t: str, now: datetime, limits: Limits) -> str:
    """SQL true when the time text `t` is not one the pure parser accepts, or may be too far ahead.

    The common shape, `YYYY-MM-DDTHH:MM:SSZ`, is checked cheaply and exactly: 20 bytes, not before 1970
    and not after the limit (text order is time order here), and DuckDB's strict strptime (ASCII digits,
    real dates, hours below 24). No pattern match is needed for the shape: strptime reads at most four
    digits for the year and two for each other field, and skips blanks only before the whole text (a
    blank or a sign there sorts below '1970'), so 20 bytes it accepts leave every field its full width
    (`test_time_texts_sql_accepts_are_the_pure_parsers` holds DuckDB to that). Every other shape goes
    through the pure parser's own regular expressions."""
    latest = now + limits.clock_skew - timedelta(seconds=1)
    text_latest = latest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    common = (
        f"strlen({t}) = 20 AND {t} >= '1970' AND {t} <= {_lit(text_latest)} "
        f"AND try_strptime({t}, '%Y-%m-%dT%H:%M:%SZ') IS NOT NULL"
    )
    s = _strip(t)
    parsed = (
        f"CASE WHEN {_regex(s, RFC3339_SHAPE)} THEN try_cast({s} AS TIMESTAMPTZ) "
        f"WHEN {_regex(s, EPOCH_SHAPE)} THEN to_timestamp(CAST({s} AS DOUBLE)) END"
    )
    other = f"coalesce(({parsed}) > TIMESTAMPTZ {_lit(latest.isoformat())}, true)"
    return f"CASE WHEN {common} THEN false ELSE {other} END"


def _select(source: str, raw: list[str], typed: bool, checks: list[str]) -> str:
    """The query: strip, check, key, join. One semi join on the key's hash returns the candidates and,
    through the sentinel keys, the suspect rows and Python's rows: their raw fields and the hash."""
    python, bad = _value_sql(typed)
    # '' and '.' have no normal form (a URL '.' does, which the pure core then decides).
    suspect = " OR ".join(["v IS NULL", "v = ''", "v = '.'", bad, *checks])
    columns = ", ".join(f"{r} AS raw_{i}" for i, r in enumerate(raw))
    key = (
        f"CASE WHEN {suspect} THEN {_sentinel(_SUSPECT)} WHEN {python} THEN {_sentinel(_PYTHON)} "
        "WHEN ends_with(v, '.') THEN lower(left(v, -1)) ELSE lower(v) END"
    )
    return f"""
        WITH src AS ({source}),
        s AS (SELECT *, {_strip("v0")} AS v FROM src),
        c AS (SELECT {columns}, hash({key}) AS h FROM s)
        SELECT {", ".join(f"raw_{i}" for i in range(len(raw)))}, h
        FROM c SEMI JOIN indicator ON c.h = indicator.h
    """


def _csv_query(files: list[Path], columns: tuple[str | None, ...], now: datetime, limits: Limits) -> str:
    names = [c if c is not None else f"ignored_{i}" for i, c in enumerate(columns)]
    spec = "{" + ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names) + "}"
    reader = (
        f"read_csv({_paths(files)}, header = true, delim = ',', quote = '\"', escape = '\"', "
        f"auto_detect = false, columns = {spec}, max_line_size = {limits.max_line_length + 2}, "
        "strict_mode = true, null_padding = false)"
    )
    typed = "type" in columns
    known = [c for c in columns if c is not None]
    extra = [f"{_type_sql(_strip('type'))} AS ty"] if typed else []
    source = f"SELECT *, value AS v0{''.join(', ' + e for e in extra)} FROM {reader}"
    checks = ["contains(v0, chr(10))", "contains(v0, chr(13))", _time_sql("time", now, limits)]
    if "count" in columns:
        c = _strip("count")
        checks.append(
            f"NOT coalesce({c} = '' OR ({_regex(c, COUNT_SHAPE)} AND TRY_CAST({c} AS BIGINT) >= 1), true)"
        )
    if "sighting" in columns:
        names_sql = ", ".join(_lit(n) for n in ["", *SIGHTING_NAMES])
        checks.append(f"NOT coalesce({_strip('sighting')} IN ({names_sql}), true)")
    return _select(source, known, typed, checks)


def _json_query(files: list[Path], now: datetime, limits: Limits) -> str:
    spec = "{" + ", ".join(f"{_lit(k)}: 'JSON'" for k in _JSON_KEYS) + "}"
    reader = (
        f"read_json({_paths(files)}, format = 'newline_delimited', columns = {spec}, "
        f"maximum_object_size = {max(limits.max_line_length, 1024)})"
    )
    # A field's JSON type from the first character of its text (DuckDB keeps a JSON value as its text;
    # JSON null and a missing key are NULL): parsing each field once more for json_type() is what costs.
    # A negative number, which json_type() would call BIGINT or DOUBLE, is left to the pure parser.
    time_json, type_json = "CAST(time AS VARCHAR)", "CAST(type AS VARCHAR)"
    # The time as text, once (a JSON number as its text: epoch seconds); blanks are the time check's affair.
    t = f"CASE WHEN starts_with({time_json}, '\"') THEN time->>'$' ELSE {time_json} END"
    declared = _type_sql(_strip("(type->>'$')"))
    # A JSON string's text without a backslash is its content between two quotes: dropping them is cheaper
    # than parsing the text again with ->>'$', which only a string with an escape needs. (A value that is
    # not a string is suspect below, whatever this makes of it.)
    value_json = "CAST(value AS VARCHAR)"
    unquoted = f"replace({value_json}, '\"', '')"
    v0 = f"CASE WHEN contains({value_json}, chr(92)) THEN value->>'$' ELSE {unquoted} END"
    source = f"SELECT *, {v0} AS v0, {t} AS time_text, {declared} AS ty FROM {reader}"
    names_sql = ", ".join(_lit(n) for n in ["", *SIGHTING_NAMES])
    sighting = _strip("(sighting->>'$')")
    checks = [
        f"NOT starts_with({value_json}, '\"')",
        f"(type IS NOT NULL AND NOT starts_with({type_json}, '\"'))",
        f"NOT (starts_with({time_json}, '\"') OR ({time_json} >= '0' AND {time_json} < ':')) "
        f"OR {_time_sql('time_text', now, limits)}",
        "NOT (count IS NULL OR json_type(count) = 'NULL' OR (json_type(count) = 'UBIGINT' "
        f"AND TRY_CAST(count AS UBIGINT) BETWEEN 1 AND {MAX_COUNT}))",
        "NOT (sighting IS NULL OR json_type(sighting) = 'NULL' "
        "OR (json_type(sighting) = 'UBIGINT' AND TRY_CAST(sighting AS UBIGINT) <= 2) "
        f"OR (json_type(sighting) = 'VARCHAR' AND {sighting} IN ({names_sql})))",
    ]
    raw = [f"CAST({k} AS VARCHAR)" for k in _JSON_KEYS]
    return _select(source, raw, True, checks)
