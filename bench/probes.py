"""Quick TAXII 2.1 behaviour probes, run after the timed phases (they add one object).

Not a conformance suite: just the behaviours the timed phases rely on or that a TAXII client notices
first (status codes, media types, pagination fields, date_added headers). Each probe returns
(ok, detail); `run` gives a list of {"probe", "ok", "detail"}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from bench import generate
from bench.common import TAXII, Server, request

PROBE_INDEX = 10**9  # far beyond any generated data set
Result = tuple[bool, str]


def _get(srv: Server, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = srv.connect(timeout=120)
    try:
        return request(conn, "GET", path, {**srv.headers(), **headers})
    finally:
        conn.close()


def _post(srv: Server, body: bytes, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = srv.connect(timeout=120)
    try:
        return request(conn, "POST", srv.objects_path, {**srv.headers(post=True), **headers}, body)
    finally:
        conn.close()


def _expect(status: int, wanted: int, headers: dict[str, str], body: bytes) -> Result:
    ctype = headers.get("content-type", "")
    detail = f"HTTP {status}, Content-Type {ctype!r}"
    if status != wanted:
        return False, f"{detail} (expected {wanted}); body {body[:160]!r}"
    if status >= 400 and body:
        try:
            err = orjson.loads(body)
            detail += f", error title {err.get('title')!r}"
        except orjson.JSONDecodeError:
            return False, f"{detail}; error body is not a TAXII error resource: {body[:120]!r}"
    return ctype.replace(" ", "").startswith(TAXII) or status == 401, detail


def discovery(srv: Server, stored: int) -> Result:
    status, headers, body = _get(srv, "/taxii2/")
    ok, detail = _expect(status, 200, headers, body)
    roots = orjson.loads(body).get("api_roots", []) if status == 200 else []
    return ok and any(
        r.rstrip("/").endswith(srv.api_root.rstrip("/")) for r in roots
    ), f"{detail}, api_roots {roots}"


def api_root(srv: Server, stored: int) -> Result:
    status, headers, body = _get(srv, srv.api_root)
    ok, detail = _expect(status, 200, headers, body)
    info = orjson.loads(body) if status == 200 else {}
    return (
        ok and "max_content_length" in info,
        f"{detail}, max_content_length {info.get('max_content_length')}",
    )


def bad_accept(srv: Server, stored: int) -> Result:
    status, headers, body = _get(srv, srv.objects_path + "?limit=1", Accept="application/json")
    return _expect(status, 406, headers, body)


def bad_content_type(srv: Server, stored: int) -> Result:
    status, headers, body = _post(
        srv, generate.envelope(PROBE_INDEX, 1), **{"Content-Type": "application/json"}
    )
    return _expect(status, 415, headers, body)


def no_auth(srv: Server, stored: int) -> Result:
    status, headers, body = _get(srv, srv.objects_path + "?limit=1", Authorization="")
    ok, detail = _expect(status, 401, headers, body)
    challenge = headers.get("www-authenticate")
    return ok and bool(challenge), f"{detail}, WWW-Authenticate {challenge!r}"


def unknown_object(srv: Server, stored: int) -> Result:
    status, headers, body = _get(srv, f"{srv.objects_path}{generate.indicator_id(PROBE_INDEX + 1)}/")
    return _expect(status, 404, headers, body)


def post_and_status(srv: Server, stored: int) -> Result:
    status, headers, body = _post(srv, generate.envelope(PROBE_INDEX, 1))
    ok, detail = _expect(status, 202, headers, body)
    if status != 202:
        return ok, detail
    res = orjson.loads(body)
    counts = [res.get(k) for k in ("total_count", "success_count", "failure_count", "pending_count")]
    ok = ok and None not in counts and counts[0] == sum(counts[1:])
    s2, h2, b2 = _get(srv, f"{srv.api_root}status/{res.get('id')}/")
    ok2, d2 = _expect(s2, 200, h2, b2)
    conn = srv.connect(timeout=120)  # clean up, so the collection holds exactly the generated data
    s3 = request(conn, "DELETE", f"{srv.objects_path}{generate.indicator_id(PROBE_INDEX)}/", srv.headers())[0]
    conn.close()
    detail = f"{detail}, status {res.get('status')!r} counts {counts}; GET status: {d2}; DELETE: HTTP {s3}"
    return ok and ok2 and s3 == 200, detail


def small_page_next(srv: Server, stored: int) -> Result:
    status, headers, body = _get(srv, srv.objects_path + "?limit=2")
    ok, detail = _expect(status, 200, headers, body)
    env = orjson.loads(body) if status == 200 else {}
    first, last = headers.get("x-taxii-date-added-first"), headers.get("x-taxii-date-added-last")
    ok = ok and len(env.get("objects", [])) == 2 and env.get("more") is True and bool(env.get("next"))
    return ok and bool(
        first and last
    ), f"{detail}, more={env.get('more')} next={env.get('next')!r} first={first} last={last}"


def next_without_limit(srv: Server, stored: int) -> Result:
    """Spec: follow `next` "along with the same original query options"; medallion 500s without limit."""
    env = orjson.loads(_get(srv, srv.objects_path + "?limit=2")[2])
    status, headers, body = _get(srv, f"{srv.objects_path}?next={env.get('next')}")
    return _expect(status, 200, headers, body)


def added_after(srv: Server, stored: int) -> Result:
    _, headers, body = _get(srv, srv.objects_path + "?limit=2")
    last = headers.get("x-taxii-date-added-last")
    ids = [o["id"] for o in orjson.loads(body)["objects"]]
    status, h2, b2 = _get(srv, f"{srv.objects_path}?limit=2&added_after={last}")
    ok, detail = _expect(status, 200, h2, b2)
    again = [o["id"] for o in orjson.loads(b2).get("objects", [])] if status == 200 else []
    overlap = len(set(ids) & set(again))
    detail = f"{detail}, added_after={last}: {len(again)} objects (2 expected), {overlap} repeated"
    return ok and not overlap and len(again) == 2, detail


def manifest(srv: Server, stored: int) -> Result:
    path = f"{srv.api_root}collections/{srv.collection}/manifest/?limit=2"
    status, headers, body = _get(srv, path)
    ok, detail = _expect(status, 200, headers, body)
    items = orjson.loads(body).get("objects", []) if status == 200 else []
    keys = sorted(items[0]) if items else []
    return ok and {"id", "date_added", "version", "media_type"} <= set(keys), f"{detail}, keys {keys}"


def versions(srv: Server, stored: int) -> Result:
    status, headers, body = _get(srv, f"{srv.objects_path}{generate.indicator_id(0)}/versions/")
    ok, detail = _expect(status, 200, headers, body)
    found = orjson.loads(body).get("versions", []) if status == 200 else []
    return ok and found == [generate.indicator(0)["modified"]], f"{detail}, versions {found}"


PROBES: list[Callable[[Server, int], Result]] = [
    discovery,
    api_root,
    bad_accept,
    bad_content_type,
    no_auth,
    unknown_object,
    post_and_status,
    small_page_next,
    next_without_limit,
    added_after,
    manifest,
    versions,
]


def run(srv: Server, stored: int) -> list[dict[str, Any]]:
    results = []
    for probe in PROBES:
        try:
            ok, detail = probe(srv, stored)
        except Exception as exc:  # a probe must never stop the benchmark
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        results.append({"probe": probe.__name__, "ok": ok, "detail": detail})
    return results
