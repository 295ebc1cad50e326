"""Run the whole benchmark: raw SQLite anchor, medallion 3.0.0, gesher; print tables, write JSON.

python -m bench.run [--quick] [--objects N] [--only gesher|medallion|sqlite[,...]]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import gesher_side, medallion_side, report, sqlite_anchor, wrk
from bench.common import wait_quiet

RESULTS = Path(__file__).parent / "results"
SYSTEMS = ("sqlite", "medallion", "gesher")


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 50k gesher objects, short phases")
    p.add_argument("--objects", type=int, help="gesher (and SQLite anchor) size; default 1,000,000")
    p.add_argument("--only", default=",".join(SYSTEMS), help="comma list of: sqlite, medallion, gesher")
    p.add_argument(
        "--medallion-sizes", help="comma list of medallion collection sizes (default 1000,2000,3000)"
    )
    p.add_argument("--wait-quiet", type=float, default=300, help="max s to wait for other load to settle")
    args = p.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := set(args.only) - set(SYSTEMS):
        p.error(f"unknown system(s) in --only: {', '.join(sorted(unknown))}")
    args.objects = args.objects or (50_000 if args.quick else 1_000_000)
    default_sizes = "1000,2000" if args.quick else "1000,2000,3000"
    args.medallion_sizes = tuple(int(x) for x in (args.medallion_sizes or default_sizes).split(","))
    return args


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "src"], capture_output=True, text=True, check=False
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_gb": round(int(mem) / 2**20, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": wrk.available(),
        "git_head": git.stdout.strip() or None,
        "src_uncommitted_changes": bool(dirty.stdout.strip()),
    }


def _attempt(name: str, fn: Callable[[], dict[str, Any]], max_wait: float) -> dict[str, Any]:
    print(f"[{datetime.now():%H:%M:%S}] {name} ...", flush=True)
    background = wait_quiet(max_wait)
    start = time.monotonic()
    try:
        result = fn()
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["background_cores_before"] = background
    result["wall_seconds"] = round(time.monotonic() - start, 1)
    print(f"[{datetime.now():%H:%M:%S}] {name} done in {result['wall_seconds']} s", flush=True)
    return result


def _gesher(args: argparse.Namespace) -> dict[str, Any]:
    if reason := gesher_side.available():
        return {"skipped": reason}
    return gesher_side.run(args.objects, lookup_s=10 if args.quick else 15)


def _medallion(args: argparse.Namespace) -> dict[str, Any]:
    return medallion_side.run(args.medallion_sizes, lookup_s=5 if args.quick else 10)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    results: dict[str, Any] = {"machine": machine(), "args": {"objects": args.objects, "quick": args.quick}}
    start = time.monotonic()
    if "sqlite" in args.only:
        results["sqlite"] = _attempt(
            "raw SQLite anchor", lambda: sqlite_anchor.run(args.objects), args.wait_quiet
        )
    if "medallion" in args.only:
        results["medallion"] = _attempt("medallion 3.0.0", lambda: _medallion(args), args.wait_quiet)
    if "gesher" in args.only:
        results["gesher"] = _attempt("gesher", lambda: _gesher(args), args.wait_quiet)
    results["total_seconds"] = round(time.monotonic() - start, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    report.show(results)
    print(f"results: {RESULTS / 'latest.json'}; total {results['total_seconds']} s")
    return 1 if any("error" in results.get(s, {}) for s in SYSTEMS) else 0


if __name__ == "__main__":
    sys.exit(main())
