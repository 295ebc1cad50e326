"""Single-object GET load with `wrk` (C, event loop, keep-alive), used when it is installed.

A Lua script sends random `/objects/{id}/` paths with the TAXII headers and prints the results as one
JSON line, which is parsed here. Install with `apt-get install wrk` (Debian); otherwise the Python
fallback in taxii_load.py is used.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.common import Server

_SCRIPT = """
local paths = {%(paths)s}
local i = 0
wrk.headers["Accept"] = "%(accept)s"
wrk.headers["Authorization"] = "%(auth)s"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def available() -> bool:
    """wrk is on PATH, and BENCH_NO_WRK is not set (set it to force the Python load generator)."""
    return shutil.which("wrk") is not None and not os.environ.get("BENCH_NO_WRK")


def _script(srv: Server, paths: list[str]) -> str:
    quoted = ",".join(f'"{p}"' for p in paths)
    return _SCRIPT % {"paths": quoted, "accept": srv.headers()["Accept"], "auth": srv.auth}


def run(srv: Server, paths: list[str], seconds: float, connections: int) -> dict[str, Any]:
    """wrk -t1 -c`connections` for `seconds`; returns rate and latency percentiles (ms)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "lookup.lua")
        script.write_text(_script(srv, paths))
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "30s", "-s", str(script)]
        proc = subprocess.run(
            [*cmd, f"http://127.0.0.1:{srv.port}"],
            capture_output=True,
            text=True,
            timeout=seconds + 90,
            check=False,
        )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    r = json.loads(line[len("WRKJSON ") :])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {
        "method": f"wrk -t1 -c{connections} -d{int(seconds)}s (keep-alive, random ids)",
        "requests": r["requests"],
        "seconds": round(r["duration_us"] / 1e6, 2),
        "rate": round(r["requests"] / (r["duration_us"] / 1e6), 1),
        "p50_ms": round(r["p50_us"] / 1000, 2),
        "p99_ms": round(r["p99_us"] / 1000, 2),
        "max_ms": round(r["max_us"] / 1000, 2),
        "errors": errors,
        "error_kinds": {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]},
    }
