"""medallion 3.0.0 (OASIS reference TAXII 2.1 server, memory backend) under the same load as gesher.

medallion runs in its own virtualenv, bench/.venv-medallion, created on first use. It is started with
its own `medallion` CLI, which runs Flask's development server (threaded=True by default since Flask
1.0). Its `max_page_size` is set to 1000, so `limit=1000` pages are the same size as gesher's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import probes, taxii_load
from bench.common import RssSampler, Server, basic_auth, free_port, stop, wait_until_ready, with_server_cpu

VENV = Path(__file__).parent / ".venv-medallion"
# medallion 3.0.0 (2020) has no upper bounds; these are the versions it was verified to run with.
REQUIREMENTS = ["medallion==3.0.0", "Flask==3.1.3", "Werkzeug==3.1.9", "Flask-HTTPAuth==4.8.1", "pytz", "six"]
API_ROOT = "api1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "bench", "bench-secret"


def ensure_venv() -> Path:
    """Create bench/.venv-medallion with medallion 3.0.0 unless it is already there; return its CLI."""
    cli = VENV / "bin" / "medallion"
    if not cli.exists():
        print(f"  creating {VENV.name} with {' '.join(REQUIREMENTS)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run([*pip, *REQUIREMENTS], capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0 or not cli.exists():
            raise RuntimeError(f"pip install into {VENV} failed: {done.stdout[-1000:]} {done.stderr[-2000:]}")
    return cli


def _data(port: int) -> dict[str, Any]:
    root = f"http://127.0.0.1:{port}/{API_ROOT}/"
    collection = {
        "id": COLLECTION,
        "title": "bench indicators",
        "can_read": True,
        "can_write": True,
        "media_types": ["application/stix+json;version=2.1"],
        "objects": [],
        "manifest": [],
    }
    return {
        "/discovery": {"title": "medallion bench", "default": root, "api_roots": [root]},
        API_ROOT: {
            "information": {
                "title": "bench",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10 * 2**20,
            },
            "status": [],
            "collections": [collection],
        },
    }


def write_config(tmp: Path, port: int) -> Path:
    data = tmp / "data.json"
    data.write_text(json.dumps(_data(port)))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data),
        },
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": 1000},
    }
    path = tmp / "medallion.json"
    path.write_text(json.dumps(config))
    return path


def start(tmp: Path) -> tuple[subprocess.Popen[bytes], Server]:
    cli, port = ensure_venv(), free_port()
    config = write_config(tmp, port)
    log = (tmp / "medallion.log").open("wb")
    proc = subprocess.Popen(
        [str(cli), "--host", "127.0.0.1", "--port", str(port), str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    srv = Server(port=port, api_root=f"/{API_ROOT}/", collection=COLLECTION, auth=basic_auth(USER, PASSWORD))
    wait_until_ready(proc, port, "/taxii2/", srv.auth)
    return proc, srv


def run(
    sizes: tuple[int, ...] = (1000, 2000, 3000), budget: float = 120.0, lookup_s: float = 10.0
) -> dict[str, Any]:
    """Grow medallion's collection through `sizes`; at each size measure ingest (of the step), a full
    paging pass and random lookups. Phases stop at `budget` s between requests (one request is not cut).
    The probes run at the first size: each `GET objects` costs medallion O(n^2)."""
    with tempfile.TemporaryDirectory(prefix="bench-medallion-") as tmp:
        proc, srv = start(Path(tmp))
        try:
            steps: list[dict[str, Any]] = []
            with RssSampler(proc.pid) as rss:
                for size in sizes:
                    stored = steps[-1]["objects"] if steps else 0
                    steps.append(_step(rss, srv, range(stored, size), budget, lookup_s))
                    if len(steps) == 1:
                        rss.phase, found = "probes", probes.run(srv, steps[0]["objects"])
                time.sleep(0.6)
        finally:
            stop(proc)
    system = "medallion 3.0.0, memory backend, Flask threaded dev server"
    cpu = {"server_cpu_per_wall_s": rss.cpu_share(), "machine_cpu_per_wall_s": rss.machine_share()}
    return {"system": system, "steps": steps, "rss_mb": rss.summary(), **cpu, "probes": found}


def _step(rss: RssSampler, srv: Server, span: range, budget: float, lookup_s: float) -> dict[str, Any]:
    rss.phase = f"ingest@{span.stop}"
    ingest = with_server_cpu(
        rss.pid, lambda: taxii_load.ingest(srv, span, 1000, connections=1, budget=budget)
    )
    stored = span.start + ingest["objects"]
    rss.phase = f"paging@{stored}"
    paging = with_server_cpu(rss.pid, lambda: taxii_load.paging(srv, limit=1000, budget=budget))
    rss.phase = f"lookup@{stored}"
    # One connection: medallion's memory backend is not thread-safe; two concurrent GETs of single
    # objects give occasional 500s (KeyError 'date_added' in BasicFilter.sort_and_paginate).
    checked = taxii_load.verify_lookups(srv, stored)
    lookup = with_server_cpu(
        rss.pid, lambda: taxii_load.lookups(srv, stored, seconds=lookup_s, connections=1)
    )
    lookup["anomalies"] = checked
    return {"objects": stored, "ingest": ingest, "paging": paging, "lookup": lookup}
