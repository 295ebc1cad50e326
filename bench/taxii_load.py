"""TAXII 2.1 load phases, the same for every server: ingest, paging, single-object lookups.

Each phase runs its client in separate processes (never in the process that samples the server), so
the client shares the two cores with the server but never its interpreter. All loops are bounded by a
count and a deadline.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from typing import Any
from urllib.parse import quote

import orjson

from bench import generate, wrk
from bench.common import Server, percentile, request

_MP = multiprocessing.get_context("spawn")
MAX_ANOMALIES = 20


def _note(anomalies: list[str], text: str) -> None:
    if len(anomalies) < MAX_ANOMALIES and text not in anomalies:
        anomalies.append(text)


# ---------------------------------------------------------------- ingest


def _post_envelope(srv: Server, conn: Any, body: bytes, out: dict[str, Any]) -> bool:
    """POST one envelope; True when it was accepted (202). Pending statuses are kept to poll later."""
    status, headers, data = request(conn, "POST", srv.objects_path, srv.headers(post=True), body)
    if status != 202:
        out["errors"] += 1
        _note(out["anomalies"], f"POST objects: HTTP {status} (expected 202): {data[:200]!r}")
        return False
    if not headers.get("content-type", "").startswith("application/taxii+json"):
        _note(out["anomalies"], f"POST objects: Content-Type {headers.get('content-type')!r}")
    res = orjson.loads(data)
    if res.get("status") != "complete":
        out["pending"].append(res["id"])
        return True
    out["success"] += res.get("success_count", 0)
    out["failure"] += res.get("failure_count", 0)
    return True


def _wait_pending(srv: Server, conn: Any, out: dict[str, Any], deadline: float) -> None:
    """Poll the status resources still pending after the last POST: ingest ends when they complete."""
    pending = out.pop("pending")
    out["pending_left"] = 0
    for status_id in pending:
        while True:
            status, _, data = request(conn, "GET", f"{srv.api_root}status/{status_id}/", srv.headers())
            res = orjson.loads(data) if status == 200 else {}
            if res.get("status") == "complete" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        out["pending_left"] += res.get("status") != "complete"
        out["success"] += res.get("success_count", 0)
        out["failure"] += res.get("failure_count", 0)


def _ingest_worker(
    srv: Server, span: range, size: int, part: int, parts: int, budget: float
) -> dict[str, Any]:
    out: dict[str, Any] = {"objects": 0, "envelopes": 0, "errors": 0, "success": 0, "failure": 0}
    out.update(pending=[], anomalies=[], marks=[])
    conn = srv.connect(timeout=max(60.0, budget))
    out["start"] = time.monotonic()
    deadline = out["start"] + budget
    for first in range(span.start + part * size, span.stop, parts * size):
        count = min(size, span.stop - first)
        accepted = _post_envelope(srv, conn, generate.envelope(first, count), out)
        out["envelopes"] += 1
        out["objects"] += count if accepted else 0
        out["marks"].append((time.monotonic(), count))
        if time.monotonic() > deadline:
            out["budget_hit"] = True
            break
    _wait_pending(srv, conn, out, time.monotonic() + 120)
    out["end"] = time.monotonic()
    conn.close()
    return out


def ingest(
    srv: Server, span: range, size: int = 1000, connections: int = 2, budget: float = 600
) -> dict[str, Any]:
    """POST generated indicators number `span` in envelopes of `size` over `connections` client processes."""
    args = [(srv, span, size, k, connections, budget) for k in range(connections)]
    with _MP.Pool(connections) as pool:
        parts = pool.starmap(_ingest_worker, args)
    seconds = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    objects = sum(p["objects"] for p in parts)
    return {
        "objects": objects,
        "seconds": round(seconds, 2),
        "rate": round(objects / seconds, 1),
        "envelope": size,
        "connections": connections,
        "http_errors": sum(p["errors"] for p in parts),
        "success_count": sum(p["success"] for p in parts),
        "failure_count": sum(p["failure"] for p in parts),
        "pending_left": sum(p["pending_left"] for p in parts),
        "budget_hit": any(p.get("budget_hit") for p in parts),
        **_decile_rates(sorted(m for p in parts for m in p["marks"]), min(p["start"] for p in parts)),
        "anomalies": sorted({a for p in parts for a in p["anomalies"]}),
    }


def _decile_rates(marks: list[tuple[float, int]], start: float) -> dict[str, float]:
    """Ingest rate over the first and the last tenth of the envelopes: does it fall as the store grows?"""
    if len(marks) < 20:
        return {}
    tenth = len(marks) // 10
    first = sum(c for _, c in marks[:tenth]) / (marks[tenth - 1][0] - start)
    last = sum(c for _, c in marks[-tenth:]) / (marks[-1][0] - marks[-tenth - 1][0])
    return {"rate_first_tenth": round(first, 1), "rate_last_tenth": round(last, 1)}


# ---------------------------------------------------------------- paging


def _check_page(
    headers: dict[str, str], env: dict[str, Any], prev_last: str | None, out: dict[str, Any]
) -> str | None:
    first, last = headers.get("x-taxii-date-added-first"), headers.get("x-taxii-date-added-last")
    if env.get("objects") and (first is None or last is None):
        _note(out["anomalies"], "GET objects page without X-TAXII-Date-Added-First/-Last headers")
    if prev_last and first and first < prev_last:
        _note(out["anomalies"], f"pages not sorted by date_added: first {first} < previous last {prev_last}")
    elif prev_last and first == prev_last:
        _note(
            out["anomalies"],
            "date_added tie across a page boundary (objects share one date_added): "
            "resuming with added_after=X-TAXII-Date-Added-Last would skip objects",
        )
    if env.get("more") and not env.get("next"):
        _note(out["anomalies"], "more=true without next (client falls back to added_after)")
    if not headers.get("content-type", "").startswith("application/taxii+json"):
        _note(out["anomalies"], f"GET objects: Content-Type {headers.get('content-type')!r}")
    return last or prev_last


def _next_path(srv: Server, limit: int, env: dict[str, Any], last: str | None) -> str | None:
    if not env.get("more"):
        return None
    if env.get("next"):
        return (
            f"{srv.objects_path}?limit={limit}&next={quote(env['next'], safe='')}"  # medallion: 500 w/o limit
        )
    return f"{srv.objects_path}?limit={limit}&added_after={quote(last)}" if last else None


def _page_worker(srv: Server, limit: int, budget: float, max_pages: int) -> dict[str, Any]:
    out: dict[str, Any] = {"objects": 0, "pages": 0, "bytes": 0, "anomalies": [], "complete": False}
    conn, seen, last = srv.connect(timeout=600), set(), None  # one medallion page can take minutes
    path: str | None = f"{srv.objects_path}?limit={limit}"
    start = time.monotonic()
    while path and out["pages"] < max_pages and time.monotonic() - start < budget:
        t0 = time.monotonic()
        status, headers, data = request(conn, "GET", path, srv.headers())
        out.setdefault("first_page_s", round(time.monotonic() - t0, 3))
        if status != 200:
            _note(out["anomalies"], f"GET objects page {out['pages'] + 1}: HTTP {status}: {data[:200]!r}")
            break
        env = orjson.loads(data)
        objs = env.get("objects", [])
        seen.update(o["id"] for o in objs)
        out["objects"] += len(objs)
        out["pages"] += 1
        out["bytes"] += len(data)
        out["max_page"] = max(out.get("max_page", 0), len(objs))
        last = _check_page(headers, env, last, out)
        path = _next_path(srv, limit, env, last)
    out["complete"], out["seconds"], out["unique_ids"] = path is None, time.monotonic() - start, len(seen)
    return out


def paging(srv: Server, limit: int = 1000, budget: float = 600, max_pages: int = 100_000) -> dict[str, Any]:
    """Page through the whole collection, limit=`limit`, following `next`, in a client process."""
    with _MP.Pool(1) as pool:
        out = pool.apply(_page_worker, (srv, limit, budget, max_pages))
    out["seconds"] = round(out["seconds"], 2)
    out["rate"] = round(out["objects"] / out["seconds"], 1) if out["seconds"] else 0.0
    out["limit"] = limit
    if out["unique_ids"] != out["objects"]:
        _note(
            out["anomalies"], f"paging returned {out['objects']} objects but {out['unique_ids']} distinct ids"
        )
    return out


# ---------------------------------------------------------------- single-object lookups


def lookup_paths(srv: Server, stored: int, count: int = 5000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [f"{srv.objects_path}{generate.indicator_id(rng.randrange(stored))}/" for _ in range(count)]


def _lookup_worker(srv: Server, paths: list[str], budget: float, max_requests: int) -> dict[str, Any]:
    conn, latencies, errors = srv.connect(timeout=30), [], 0
    headers = srv.headers()
    start = time.monotonic()
    while len(latencies) < max_requests and time.monotonic() - start < budget:
        t0 = time.perf_counter()
        status, _, _ = request(conn, "GET", paths[len(latencies) % len(paths)], headers)
        latencies.append((time.perf_counter() - t0) * 1000)
        errors += status != 200
    return {"start": start, "end": time.monotonic(), "latencies": latencies, "errors": errors}


def _python_lookups(srv: Server, paths: list[str], seconds: float, connections: int) -> dict[str, Any]:
    shares = [paths[k::connections] for k in range(connections)]
    with _MP.Pool(connections) as pool:
        parts = pool.starmap(_lookup_worker, [(srv, share, seconds, 1_000_000) for share in shares])
    latencies = sorted(x for p in parts for x in p["latencies"])
    elapsed = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    return {
        "method": f"python http.client, {connections} processes x 1 keep-alive connection",
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "rate": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        "errors": sum(p["errors"] for p in parts),
    }


def lookups(
    srv: Server, stored: int, seconds: float = 15, connections: int = 2, use_wrk: bool = True
) -> dict[str, Any]:
    """Random single-object GETs (`/objects/{id}/`) for `seconds`, over persistent connections.
    The load tools only count status codes: check a few lookups in full with `verify_lookups` first."""
    return lookups_of(srv, lookup_paths(srv, stored), seconds, connections, use_wrk)


def lookups_of(
    srv: Server, paths: list[str], seconds: float = 15, connections: int = 2, use_wrk: bool = True
) -> dict[str, Any]:
    """GETs of the given paths for `seconds`, over persistent connections (wrk when installed)."""
    if use_wrk and wrk.available():
        return wrk.run(srv, paths, seconds, connections)
    return _python_lookups(srv, paths, seconds, connections)


def verify_lookups(srv: Server, stored: int, count: int = 20) -> list[str]:
    """A few lookups checked in full: status, one object with the requested id, date-added headers."""
    anomalies: list[str] = []
    paths = lookup_paths(srv, stored)[:count]
    conn = srv.connect(timeout=60)
    for path in paths:
        status, headers, data = request(conn, "GET", path, srv.headers())
        wanted = path.rstrip("/").rsplit("/", 1)[-1]
        if status != 200:
            _note(anomalies, f"GET object: HTTP {status} for a stored id: {data[:200]!r}")
            continue
        ids = [o.get("id") for o in orjson.loads(data).get("objects", [])]
        if ids != [wanted]:
            _note(anomalies, f"GET object: envelope ids {ids[:3]} for {wanted}")
        if "x-taxii-date-added-first" not in headers or "x-taxii-date-added-last" not in headers:
            _note(anomalies, "GET object: no X-TAXII-Date-Added-First/-Last headers")
    conn.close()
    return anomalies
