"""Early warning's matching engine (issue 7, "Performance"): observed values per second from raw
observation files to matches, against 1,000,000 indicator values. Target >= 10,000,000 values/s.

- indicators: N values (default 1,000,000): a third IPv4 addresses, a third SHA-256 hashes, a third
  domains, loaded once into `IndicatorIndex` (timed apart: the service keeps the index between files);
- observations: M values (default 10,000,000) in F CSV files (default 4) of `time,value`, one value in
  a thousand (default) an indicator, written as a sensor would (domains in mixed case with the trailing
  dot, hashes in upper case), the rest unrelated domains; written by DuckDB so that generating them costs
  seconds, not minutes;
- timed: `IndicatorIndex.match_files(files, "csv", now)`: reading, checking every line as the pure core
  would, normalising, joining, and building the `Match` objects; the same for the rows as JSON lines;
  and for the rows with a declared type, a count and a sighting type (`time,value,type,count,sighting`, as
  MISP or a SIEM exports); each on the engine's first route (the compiled scan) and on its DuckDB route
  (the scan switched off), which files the scan is not sure of take;
- anchors: a Python set's membership test on pre-made strings (the issue's ~3M lookups/s), the pure
  core's own route on a sample (parse the file in Python, then the set), and the bounds on this machine:
  DuckDB merely reading the same CSV files (no check, no join), and reading plus the bare hash join of
  the raw values against the indicator values (no check, no normalisation), in the same process.

python -m bench.warning_bench [--indicators N] [--values M] [--files F] [--match-every K] [--threads T]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gesher.warning.observations import parse_csv
from gesher.warning_service.matching import IndicatorIndex

TARGET = 10_000_000  # observed values/s
NOW = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def indicator_value(i: int) -> str:
    """Indicator number i in normal form (the SQL in `write_observations` makes the same values)."""
    kind = i % 3
    if kind == 0:
        return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    if kind == 1:
        return hashlib.sha256(str(i).encode()).hexdigest()
    return f"c2-{i:07d}.example.net"


def write_observations(directory: Path, values: int, files: int, indicators: int, every: int) -> list[Path]:
    """CSV files of `time,value`; row r is indicator (r * 7919) mod N, written as a sensor would, when
    r is a multiple of `every`, else an unrelated domain."""
    db = duckdb.connect()
    per_file = values // files
    paths = []
    for f in range(files):
        path = directory / f"observations-{f}.csv"
        start = f * per_file
        as_sensor = (
            "CASE j % 3 WHEN 0 THEN '10.' || ((j >> 16) & 255) || '.' || ((j >> 8) & 255) "
            "|| '.' || (j & 255) "
            "WHEN 1 THEN upper(sha256(CAST(j AS VARCHAR))) "
            "ELSE 'C2-' || lpad(CAST(j AS VARCHAR), 7, '0') || '.Example.NET.' END"
        )
        db.execute(f"""
            COPY (
              SELECT strftime(TIMESTAMP '2026-11-23' + to_seconds(r % 86400), '%Y-%m-%dT%H:%M:%SZ') AS time,
                     CASE WHEN r % {every} = 0 THEN {as_sensor}
                          ELSE 'host' || (r * 2654435761 % 1000000007) || '.benign' || (r % 977) || '.com'
                     END AS value
              FROM (SELECT r, (r * 7919) % {indicators} AS j FROM range({start}, {start + per_file}) t(r))
            ) TO '{path}' (FORMAT CSV, HEADER)
        """)
        paths.append(path)
    db.close()
    return paths


def to_jsonl(paths: list[Path]) -> list[Path]:
    """The same rows as JSON lines."""
    db, out = duckdb.connect(), []
    for path in paths:
        target = path.with_suffix(".jsonl")
        db.execute(f"COPY (SELECT * FROM read_csv('{path}', all_varchar = true)) TO '{target}' (FORMAT JSON)")
        out.append(target)
    db.close()
    return out


def to_typed(paths: list[Path]) -> list[Path]:
    """The same rows with a declared type, a count and a sighting type, as a MISP or SIEM export has."""
    db, out = duckdb.connect(), []
    for path in paths:
        target = path.with_name(path.stem + "-typed.csv")
        db.execute(f"""
            COPY (SELECT time, value,
                         CASE WHEN value LIKE '10.%' THEN 'ip-dst' WHEN length(value) = 64 THEN 'SHA256'
                              ELSE 'domain' END AS type,
                         CAST(1 + length(value) % 5 AS VARCHAR) AS count, 'sighting' AS sighting
                  FROM read_csv('{path}', all_varchar = true)) TO '{target}' (FORMAT CSV, HEADER)
        """)
        out.append(target)
    db.close()
    return out


def bench_index(n: int, threads: int | None) -> tuple[IndicatorIndex, float]:
    started = time.perf_counter()
    index = IndicatorIndex(((indicator_value(i), f"indicator--{i}") for i in range(n)), threads=threads)
    return index, time.perf_counter() - started


def bench_match(
    index: IndicatorIndex, paths: list[Path], fmt: str, values: int, runs: int, route: str
) -> tuple[float, int]:
    """Best values/s over `runs` on `route` ("scan" or "duckdb"), and the number of matches."""
    index.compiled_scan = route == "scan"
    best, found = 0.0, 0
    for _ in range(runs):
        started = time.perf_counter()
        matches = index.match_files(paths, fmt, NOW)
        rate = values / (time.perf_counter() - started)
        assert index.last_route == route, f"the {route} route was not taken"
        best, found = max(best, rate), len(matches)
    index.compiled_scan = True
    return best, found


def report_match(
    index: IndicatorIndex, paths: list[Path], fmt: str, values: int, runs: int
) -> tuple[float, float]:
    """Print and return the best values/s of both routes."""
    rates = []
    for route in ("scan", "duckdb"):
        rate, found = bench_match(index, paths, "jsonl" if fmt == "jsonl" else "csv", values, runs, route)
        rates.append(rate)
        print(
            f"match {fmt.upper():5} {route:6} {rate / 1e6:6.1f} M values/s "
            f"({values / rate:.2f} s for {values:,}; {found:,} matches)"
            f"   x{rate / TARGET:.2f} of the 10M/s target"
        )
    return rates[0], rates[1]


def anchor_set(n: int) -> float:
    """A Python set's lookups/s on pre-made strings (no file, no parsing)."""
    members = {indicator_value(i) for i in range(0, n, 3)}
    probes = [f"host{r}.benign{r % 977}.com" if r % 1000 else indicator_value(r) for r in range(2_000_000)]
    started = time.perf_counter()
    hits = sum(1 for p in probes if p in members)
    assert hits >= 0
    return len(probes) / (time.perf_counter() - started)


def anchor_pure(path: Path, index_values: set[str], sample_bytes: int = 8_000_000) -> float:
    """The pure core's route on a sample: parse the CSV in Python, then the set."""
    data = path.read_bytes()[:sample_bytes]
    data = data[: data.rfind(b"\n") + 1]
    started = time.perf_counter()
    observations = parse_csv(data, NOW)
    hits = [o for o in observations if o.value in index_values]
    assert hits is not None
    return len(observations) / (time.perf_counter() - started)


def anchor_duckdb(paths: list[Path], n: int, threads: int | None, runs: int) -> tuple[float, float]:
    """Best values/s of DuckDB reading the CSV files (both columns, no check), and of reading plus the
    bare hash join of the raw values against the n indicator values: what bounds the engine here."""
    db = duckdb.connect(":memory:")
    if threads is not None:
        db.execute(f"SET threads = {int(threads)}")
    db.execute("SET preserve_insertion_order = false")
    db.execute("SET disabled_optimizers = 'build_side_probe_side'")  # as the engine: build on the indicators
    db.execute(
        "CREATE TABLE indicator AS SELECT unnest($1) AS ivalue", [[indicator_value(i) for i in range(n)]]
    )
    files = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    reader = (
        f"read_csv({files}, header = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
        "columns = {'time': 'VARCHAR', 'value': 'VARCHAR'}, strict_mode = true, null_padding = false)"
    )
    queries = (
        f"SELECT count(time), count(value) FROM {reader}",
        f"SELECT time, value FROM {reader} JOIN indicator ON value = ivalue",
    )
    best = [float("inf")] * len(queries)
    for _ in range(runs):
        for i, sql in enumerate(queries):
            started = time.perf_counter()
            db.execute(sql).fetchall()
            best[i] = min(best[i], time.perf_counter() - started)
    db.close()
    return best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--values", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--match-every", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-jsonl", action="store_true")
    args = parser.parse_args()
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, duckdb "
        f"{duckdb.__version__}; {args.indicators:,} indicators, {args.values:,} observed values in "
        f"{args.files} files, 1 in {args.match_every} an indicator"
    )
    load = os.getloadavg()[0]
    if load > 0.5:
        print(
            f"WARNING: load average {load:.1f} before the run: other work shares the cores, figures are low"
        )
    with tempfile.TemporaryDirectory(prefix="gesher-warning-bench-") as tmp:
        started = time.perf_counter()
        paths = write_observations(Path(tmp), args.values, args.files, args.indicators, args.match_every)
        size = sum(p.stat().st_size for p in paths)
        print(f"generate  {size / 1e6:,.0f} MB of CSV in {time.perf_counter() - started:.1f} s")
        index, seconds = bench_index(args.indicators, args.threads)
        print(
            f"index     {len(index):,} indicator values loaded in {seconds:.1f} s (once, kept by the service)"
        )
        values = args.values // args.files * args.files
        rate, duckdb_rate = report_match(index, paths, "csv", values, args.runs)
        read_s, join_s = anchor_duckdb(paths, args.indicators, args.threads, args.runs)
        print(
            f"bound     DuckDB reading the CSV alone {values / read_s / 1e6:.1f} M values/s; reading plus "
            f"the bare join (no check, no normalisation) {values / join_s / 1e6:.1f} M/s   (scan "
            f"x{rate * read_s / values:.2f} and x{rate * join_s / values:.2f}, DuckDB route "
            f"x{duckdb_rate * read_s / values:.2f} and x{duckdb_rate * join_s / values:.2f} of these)"
        )
        report_match(index, to_typed(paths), "typed", values, args.runs)
        if not args.no_jsonl:
            report_match(index, to_jsonl(paths), "jsonl", values, args.runs)
        set_rate = anchor_set(args.indicators)
        members = {indicator_value(i) for i in range(args.indicators)}
        pure_rate = anchor_pure(paths[0], members)
        print(
            f"anchor    Python set lookups {set_rate / 1e6:.1f} M/s "
            f"(strings already made; engine x{rate / set_rate:.1f})"
        )
        print(
            f"anchor    pure core, file -> set {pure_rate / 1e6:.2f} M values/s "
            f"(engine x{rate / pure_rate:.0f})"
        )
        index.close()


if __name__ == "__main__":
    main()
