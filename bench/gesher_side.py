"""gesher under load: a real `gesher serve --workers 1` subprocess on a fresh SQLite store.

Set-up goes through the public CLI only (GESHER_DATA_DIR, `gesher init`, `collection add`, `partner add`,
`partner grant`), exactly as an operator would do it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench import probes, taxii_load
from bench.common import RssSampler, Server, basic_auth, free_port, stop, wait_until_ready, with_server_cpu

ROOT = Path(__file__).resolve().parent.parent
GESHER = ROOT / ".venv" / "bin" / "gesher"
PARTNER = "bench-partner"
BENCH_POLICY = f"""
version: 1
rules:
  - name: bench
    partners: [{PARTNER}]
    max_tlp: AMBER
    max_tier: offensive
"""


def available() -> str | None:
    """None when the gesher CLI answers `--help`, else the reason it cannot be used."""
    if not GESHER.exists():
        return f"{GESHER} not found"
    proc = subprocess.run([str(GESHER), "--help"], capture_output=True, text=True, timeout=60, check=False)
    return None if proc.returncode == 0 else f"`gesher --help` exited {proc.returncode}: {proc.stderr[-300:]}"


def _cli(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [str(GESHER), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"gesher {' '.join(args)} exited {proc.returncode}: {proc.stderr[-800:]}")
    return proc.stdout


def _json_line(text: str) -> dict[str, Any]:
    """The JSON object printed by a `--json` command (the whole output, else its last JSON line)."""
    try:
        return dict(orjson.loads(text))
    except orjson.JSONDecodeError:
        return dict(orjson.loads(text.strip().splitlines()[-1]))


def provision(env: dict[str, str]) -> tuple[str, str]:
    """Store, collection, partner with read+write on it; returns (collection id, token)."""
    _cli(env, "init")
    collection = _json_line(_cli(env, "collection", "add", "bench-indicators", "--json"))["id"]
    token = _json_line(
        _cli(env, "partner", "add", PARTNER, "--country", "NL", "--kind", "industry", "--json")
    )["token"]
    _cli(env, "partner", "grant", PARTNER, collection, "--read", "--write")
    # The tiered policy is on: the partner is vetted and named for everything (bench/policy_bench.py
    # measures the policy's cost over realistic label diversity).
    _cli(env, "partner", "set", PARTNER, "--tier", "1", "--reason", "bench")
    policy = Path(env["GESHER_DATA_DIR"]) / "policy.yaml"
    policy.write_text(BENCH_POLICY)
    _cli(env, "policy", "load", str(policy), "--reason", "bench")
    return collection, token


def start(tmp: Path) -> tuple[subprocess.Popen[bytes], Server, Path]:
    env = {**os.environ, "GESHER_DATA_DIR": str(tmp)}
    collection, token = provision(env)
    port = free_port()
    log = tmp / "gesher-serve.log"
    cmd = [str(GESHER), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    srv = Server(
        port=port, api_root="/taxii2/gesher/", collection=collection, auth=basic_auth(PARTNER, token)
    )
    try:
        wait_until_ready(proc, port, "/taxii2/", srv.auth)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; log: {log.read_text()[-1500:]}") from exc
    return proc, srv, log


def run(objects: int = 1_000_000, lookup_s: float = 15.0, budget: float = 1200.0) -> dict[str, Any]:
    """Ingest `objects` indicators, page them all, then random lookups; RSS sampled throughout."""
    with tempfile.TemporaryDirectory(prefix="bench-gesher-") as tmp:
        proc, srv, log = start(Path(tmp))
        try:
            out = _phases(proc, srv, objects, lookup_s, budget)
            out["store_mb"] = {
                p.name: round(p.stat().st_size / 2**20, 1) for p in Path(tmp).glob("gesher.db*")
            }
        finally:
            stop(proc)
            out_log = log.read_text(errors="replace")
    out["server_log_tail"] = out_log[-1500:]
    return out


def _phases(
    proc: subprocess.Popen[bytes], srv: Server, objects: int, lookup_s: float, budget: float
) -> dict[str, Any]:
    out: dict[str, Any] = {"system": "gesher serve --workers 1 (SQLite)"}
    with RssSampler(proc.pid) as rss:
        rss.phase = "idle"
        time.sleep(1.0)
        rss.phase = "ingest"
        out["ingest"] = with_server_cpu(
            proc.pid, lambda: taxii_load.ingest(srv, range(objects), 1000, connections=2, budget=budget)
        )
        stored = out["ingest"]["objects"]
        rss.phase = "paging"
        out["paging"] = with_server_cpu(proc.pid, lambda: taxii_load.paging(srv, limit=1000, budget=budget))
        rss.phase = "lookup"
        checked = taxii_load.verify_lookups(srv, stored)
        out["lookup"] = with_server_cpu(
            proc.pid, lambda: taxii_load.lookups(srv, stored, seconds=lookup_s, connections=4)
        )
        out["lookup"]["anomalies"] = checked
        rss.phase = "probes"
        out["probes"] = probes.run(srv, stored)
        time.sleep(0.6)
    out["objects"], out["rss_mb"], out["rss_samples"] = stored, rss.summary(), rss.samples
    out["server_cpu_per_wall_s"], out["machine_cpu_per_wall_s"] = rss.cpu_share(), rss.machine_share()
    return out
