"""What the disclosure ledger costs a running exchange (issue 6, "Performance"):

- serving with the ledger on versus off (target: on >= 0.8x off): a partner pages the whole collection
  (1,000-object pages, one sequential client, every page one disclosure entry) and looks up random objects
  (4 connections, every response one entry), on the same store, against the same server code: off is
  `bench.serve_without_ledger --no-ledger`, which skips only the recording. Runs alternate on/off twice
  and the better of each is kept (this VM's speed drifts between minutes);
- appends through the store: entries/s when acts are appended in the caller's transaction, in batches as
  an ingest or a re-screening does, and one at a time as TAXII responses do;
- `gesher ledger verify`'s pass over the stored ledger (target: 1,000,000 entries in under 30 s).

python -m bench.ledger_serving_bench [--objects N] [--entries M]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench import generate, taxii_load
from bench.common import Server, basic_auth, free_port, stop, wait_until_ready
from gesher.exchange import policies
from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.ledger.entries import make
from gesher.ledger_service.log import append, now
from gesher.ledger_service.verify import verify
from gesher.partners import service
from gesher.settings import Settings
from gesher.store import ledger as ledger_store

POLICY = """version: 1
rules:
  - name: bench-partners
    partners: [bench-partner]
    max_tlp: AMBER
    max_tier: defensive
"""


def build(data: Path, objects: int) -> tuple[str, dict[str, str]]:
    node = Node.init(Settings(data_dir=data))
    tokens: dict[str, str] = {}
    try:
        with node.db.write() as conn:
            collection = create_collection(conn, "bench", "intel")
            for name, admin in (("bench-admin", True), ("bench-partner", False)):
                partner, tokens[name] = service.create_partner(conn, "bench", name, "GB", "government", admin)
                service.set_standing(conn, "bench", partner, "bench", trust_tier=1)
                service.grant(conn, "bench", partner, collection, True, False)
            policies.load(conn, "bench", POLICY, "bench.yaml", "bench")
        for first in range(0, objects, 10_000):
            batch = [generate.indicator(i) for i in range(first, min(objects, first + 10_000))]
            with node.db.write() as conn:
                add_objects(conn, collection.id, batch, None, keep_successes=False)
    finally:
        node.db.dispose()
    return collection.id, tokens


def serve(data: Path, port: int, ledger: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GESHER_DATA_DIR": str(data)}
    argv = [
        sys.executable,
        "-m",
        "bench.serve_without_ledger",
        str(port),
        *([] if ledger else ["--no-ledger"]),
    ]
    log = (data / f"serve-{'on' if ledger else 'off'}.log").open("wb")
    return subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent
    )


def serving(
    data: Path, collection: str, token: str, objects: int, ledger: bool, paths: list[str]
) -> dict[str, Any]:
    port = free_port()
    proc = serve(data, port, ledger)
    srv = Server(port, "/taxii2/gesher/", collection, basic_auth("bench-partner", token))
    try:
        wait_until_ready(proc, port, "/taxii2/", srv.auth)
        paged = taxii_load.paging(srv)
        looked = taxii_load.lookups_of(srv, paths, seconds=10, connections=4)
    finally:
        stop(proc)
    assert paged["objects"] == objects, paged
    return {"paging": paged["rate"], "lookups": looked["rate"], "p99_ms": looked.get("p99_ms")}


def appends(data: Path, entries: int) -> dict[str, float]:
    node = Node.open(Settings(data_dir=data))
    try:
        at = now()
        batch = [
            make("alert", at, "system", alert=f"alert--{i}", level="high", organisations=i % 7)
            for i in range(10_000)
        ]
        started = time.perf_counter()
        for _ in range(entries // len(batch)):
            with node.db.write() as conn:
                append(conn, *batch)
        batched = (entries // len(batch)) * len(batch) / (time.perf_counter() - started)
        started = time.perf_counter()
        for entry in batch[:2000]:
            with node.db.write() as conn:
                append(conn, entry)
        single = 2000 / (time.perf_counter() - started)
        with node.db.read() as conn:
            size = ledger_store.entry_count(conn)
            started = time.perf_counter()
            result = verify(conn, node.ledger.verifiers(conn), node.ledger.origin)
            seconds = time.perf_counter() - started
        assert result.ok, result.problem
    finally:
        node.db.dispose()
    return {"batched": batched, "single": single, "verify_s": seconds, "verified": size}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.ledger_serving_bench", description=__doc__.split("\n")[0]
    )
    p.add_argument("--objects", type=int, default=200_000)
    p.add_argument("--entries", type=int, default=1_000_000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        data = Path(tmp)
        started = time.perf_counter()
        collection, tokens = build(data, args.objects)
        print(f"{args.objects:,} indicators stored in {time.perf_counter() - started:.0f} s")
        ids = random.Random(7).sample(range(args.objects), min(5000, args.objects))
        paths = [f"/taxii2/gesher/collections/{collection}/objects/{generate.indicator_id(i)}/" for i in ids]
        runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        for ledger in (True, False, True, False):
            runs[ledger].append(
                serving(data, collection, tokens["bench-partner"], args.objects, ledger, paths)
            )
        best = {k: {m: max(r[m] for r in v) for m in ("paging", "lookups")} for k, v in runs.items()}
        for metric, unit in (("paging", "obj/s"), ("lookups", "req/s")):
            on, off = best[True][metric], best[False][metric]
            figures = f"ledger off {off:>10,.0f} {unit}   on {on:>10,.0f} {unit}"
            print(f"{metric:8} {figures}   ratio {on / off:.2f} (>= 0.80)")
        stored = appends(data, args.entries)
    print(
        f"appends through the store: {stored['batched']:,.0f} entries/s in batches of 10,000; "
        f"{stored['single']:,.0f}/s one transaction each"
    )
    print(
        f"gesher ledger verify: {stored['verified']:,} entries in {stored['verify_s']:.1f} s "
        f"({stored['verify_s'] * 1_000_000 / stored['verified']:.1f} s per million; target < 30 s)"
    )
    out = {"objects": args.objects, "runs": {str(k): v for k, v in runs.items()}, "store": stored}
    (Path(__file__).parent / "results").mkdir(exist_ok=True)
    (Path(__file__).parent / "results" / "ledger_serving.json").write_text(
        orjson.dumps(out, option=orjson.OPT_INDENT_2).decode()
    )


if __name__ == "__main__":
    main()
