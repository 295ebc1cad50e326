"""Raw SQLite anchor: the ceiling for "page through the collection" in Python with no server at all.

A table `objects(date_added INTEGER PRIMARY KEY, body BLOB)` holds N generated indicators (orjson bytes).
It is read with keyset paging, `WHERE date_added > ? ORDER BY date_added LIMIT 1000`, two ways:

* concat: the page's raw bodies joined into envelope bytes, b'{"objects":[' + b','.join(...) + b']}';
  no JSON parsing at all (what a server that stores serialized objects can do);
* orjson:  orjson.loads() of every row, then orjson.dumps() of the envelope dict (what a server that
  materialises every object does).
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench import generate

PAGE = 1000
_SELECT = "SELECT date_added, body FROM objects WHERE date_added > ? ORDER BY date_added LIMIT ?"


def build(path: Path, rows: int, chunk: int = 10_000) -> float:
    """Create and fill the table in one transaction; return the seconds spent inserting."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE objects (date_added INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    start_us = 1_717_200_000_000_000
    elapsed = 0.0
    for first in range(0, rows, chunk):
        batch = [
            (start_us + i, orjson.dumps(generate.indicator(i)))
            for i in range(first, min(rows, first + chunk))
        ]
        t0 = time.perf_counter()
        db.executemany("INSERT INTO objects VALUES (?, ?)", batch)
        elapsed += time.perf_counter() - t0
    t0 = time.perf_counter()
    db.commit()
    db.close()
    return elapsed + time.perf_counter() - t0


def _page_concat(rows: list[tuple[int, bytes]]) -> bytes:
    return b'{"objects":[' + b",".join(r[1] for r in rows) + b"]}"


def _page_orjson(rows: list[tuple[int, bytes]]) -> bytes:
    return orjson.dumps({"objects": [orjson.loads(r[1]) for r in rows], "more": len(rows) == PAGE})


def scan(path: Path, mode: str, budget: float = 120.0) -> dict[str, Any]:
    """Keyset-page the whole table once; `mode` is 'concat' or 'orjson'."""
    render = _page_concat if mode == "concat" else _page_orjson
    db = sqlite3.connect(path)
    last, rows, out_bytes = 0, 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        page = db.execute(_SELECT, (last, PAGE)).fetchall()
        if not page:
            break
        out_bytes += len(render(page))
        rows += len(page)
        last = page[-1][0]
    seconds = time.perf_counter() - start
    db.close()
    return {
        "mode": mode,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rate": round(rows / seconds, 1),
        "mb_out": round(out_bytes / 2**20, 1),
    }


def run(rows: int = 1_000_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as tmp:
        path = Path(tmp, "anchor.db")
        insert_s = build(path, rows)
        db_mb = path.stat().st_size / 2**20
        scans = {mode: scan(path, mode) for mode in ("concat", "orjson")}
    return {
        "rows": rows,
        "page": PAGE,
        "db_mb": round(db_mb, 1),
        "insert_seconds": round(insert_s, 2),
        "insert_rate": round(rows / insert_s, 1),
        **scans,
    }


if __name__ == "__main__":
    print(orjson.dumps(run(), option=orjson.OPT_INDENT_2).decode())
