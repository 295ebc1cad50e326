"""Rich tables for a results dict from bench.run (also usable on a saved latest.json:
`python -m bench.report bench/results/latest.json`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

HEADLINE_MEDALLION_SIZE = 2000  # where the measured medallion anchors were taken
# (label, target text, target value, higher is better, path into a system's results)
FIGURES = [
    ("Ingest, TAXII POST, 1000/envelope (objects/s)", ">= 25,000", 25_000, True, ("ingest", "rate")),
    ("Paging, whole collection, limit=1000 (objects/s)", ">= 100,000", 100_000, True, ("paging", "rate")),
    ("Single-object GET (req/s)", ">= 2,000", 2_000, True, ("lookup", "rate")),
    ("Single-object GET p50 (ms)", "", None, False, ("lookup", "p50_ms")),
    ("Single-object GET p99 (ms)", "<= 10", 10, False, ("lookup", "p99_ms")),
    ("Server RSS, max over all phases (MB)", "<= 300", 300, False, ("rss_mb", "max")),
    ("Ingest per server CPU second (objects)", "", None, True, ("ingest", "per_server_cpu_s")),
    ("Paging per server CPU second (objects)", "", None, True, ("paging", "per_server_cpu_s")),
    ("GETs per server CPU second", "", None, True, ("lookup", "per_server_cpu_s")),
]


def _dig(data: dict[str, Any] | None, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data if isinstance(data, int | float) else None


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"


def medallion_headline(med: dict[str, Any]) -> dict[str, Any] | None:
    steps = med.get("steps") or []
    pick = [s for s in steps if s["objects"] == HEADLINE_MEDALLION_SIZE] or steps[-1:]
    return {**pick[0], "rss_mb": med.get("rss_mb")} if pick else None


def main_table(results: dict[str, Any]) -> Table:
    g, m = results.get("gesher") or {}, medallion_headline(results.get("medallion") or {})
    table = Table(title="gesher vs medallion 3.0.0 (same generated indicators, same TAXII client)")
    table.add_column("figure")
    table.add_column("target")
    table.add_column(f"gesher @ {g.get('objects', 0):,} objects", justify="right")
    table.add_column(f"medallion @ {(m or {}).get('objects', 0):,} objects", justify="right")
    table.add_column("gesher / medallion", justify="right")
    table.add_column("target met", justify="center")
    for label, target_text, target, higher, path in FIGURES:
        gv, mv = _dig(g, path), _dig(m, path)
        ratio = f"{gv / mv:,.2f}x" if gv is not None and mv else "-"
        met = (
            "-"
            if gv is None or target is None
            else ("yes" if (gv >= target if higher else gv <= target) else "NO")
        )
        table.add_row(label, target_text, _num(gv), _num(mv), ratio, met)
    return table


def medallion_table(med: dict[str, Any]) -> Table:
    table = Table(title="medallion 3.0.0 as its collection grows (memory backend)")
    for col in (
        "objects stored",
        "ingest of the step (obj/s)",
        "paging (obj/s)",
        "first page (s)",
        "GET req/s",
        "p50 ms",
        "p99 ms",
    ):
        table.add_column(col, justify="right")
    for s in med.get("steps", []):
        table.add_row(
            f"{s['objects']:,}",
            _num(s["ingest"]["rate"]),
            _num(s["paging"]["rate"]),
            _num(s["paging"].get("first_page_s")),
            _num(s["lookup"]["rate"]),
            _num(s["lookup"]["p50_ms"]),
            _num(s["lookup"]["p99_ms"]),
        )
    return table


def sqlite_table(sq: dict[str, Any], gesher: dict[str, Any]) -> Table:
    table = Table(title=f"raw SQLite anchor: {sq['rows']:,} rows, keyset pages of {sq['page']}, no server")
    for col in ("variant", "rows/s", "gesher paging / this"):
        table.add_column(col, justify="right")
    paging = _dig(gesher, ("paging", "rate"))
    for mode, text in (
        ("concat", "bodies concatenated (no JSON parse)"),
        ("orjson", "orjson.loads per row + dumps"),
    ):
        rate = sq[mode]["rate"]
        table.add_row(text, _num(rate), f"{paging / rate:.2f}" if paging else "-")
    table.add_row("insert (executemany, one transaction)", _num(sq["insert_rate"]), "")
    return table


def notes(name: str, res: dict[str, Any]) -> list[str]:
    """Everything worth a human's attention: errors, anomalies, failed probes, cut-short phases."""
    out = [f"{name}: {res[k]}" for k in ("error", "skipped") if k in res]
    if res.get("background_cores_before", 0) >= 0.25:
        out.append(
            f"{name}: WARNING other processes kept {res['background_cores_before']} cores busy before it "
            "started: figures are depressed"
        )
    phases = [("", res)] + [(f"@{s['objects']} ", s) for s in res.get("steps", [])]
    for prefix, ph in phases:
        for phase in ("ingest", "paging", "lookup"):
            r = ph.get(phase) or {}
            out += [f"{name} {prefix}{phase}: {a}" for a in r.get("anomalies", [])]
            for key in ("http_errors", "errors", "pending_left", "failure_count"):
                if r.get(key):
                    out.append(f"{name} {prefix}{phase}: {key} = {r[key]} {r.get('error_kinds', '')}")
            if r.get("budget_hit") or r.get("complete") is False:
                out.append(f"{name} {prefix}{phase}: stopped by its time budget")
        shares = {k: ph[k]["server_cpu_share"] for k in ("ingest", "paging", "lookup") if k in ph}
        if shares:
            out.append(f"{name} {prefix}server CPU share of each phase (1.0 = one core): {shares}")
        if "rate_first_tenth" in ph.get("ingest", {}):
            i = ph["ingest"]
            out.append(
                f"{name} {prefix}ingest rate over the first tenth {_num(i['rate_first_tenth'])}/s, "
                f"over the last tenth {_num(i['rate_last_tenth'])}/s"
            )
        if ph.get("lookup", {}).get("method"):
            out.append(f"{name} {prefix}lookup method: {ph['lookup']['method']}")
    out += [f"{name} probe {p['probe']} FAILED: {p['detail']}" for p in res.get("probes", []) if not p["ok"]]
    for key, text in (
        ("rss_mb", "server RSS peaks (MB)"),
        ("server_cpu_per_wall_s", "server CPU s per wall s"),
        ("machine_cpu_per_wall_s", "machine CPU s per wall s (all processes)"),
        ("store_mb", "store files (MB)"),
    ):
        if res.get(key):
            out.append(f"{name} {text}: {res[key]}")
    return list(dict.fromkeys(out))


def show(results: dict[str, Any]) -> None:
    console = Console(width=140)
    mach = results.get("machine", {})
    console.print(
        f"machine: {mach.get('nproc')} x {mach.get('cpu_model')}, {mach.get('mem_gb')} GB, "
        f"Python {mach.get('python')}, SQLite {mach.get('sqlite')}, {mach.get('date')}"
    )
    if "gesher" in results or "medallion" in results:
        console.print(main_table(results))
    if results.get("medallion", {}).get("steps"):
        console.print(medallion_table(results["medallion"]))
    if "rows" in results.get("sqlite", {}):
        console.print(sqlite_table(results["sqlite"], results.get("gesher") or {}))
    for name in ("sqlite", "medallion", "gesher"):
        for line in notes(name, results.get(name) or {}):
            console.print(f"- {line}", markup=False, highlight=False)


if __name__ == "__main__":
    show(orjson.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json").read_bytes()))
