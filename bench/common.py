"""Small shared helpers: ports, process start-up, RSS sampling, percentiles, TAXII HTTP connections."""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

TAXII = "application/taxii+json;version=2.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """Where a TAXII server listens and how to talk to it; picklable, so client processes get a copy."""

    port: int
    api_root: str  # path, with slashes: /taxii2/gesher/
    collection: str  # collection id
    auth: str  # full Authorization header value

    @property
    def objects_path(self) -> str:
        return f"{self.api_root}collections/{self.collection}/objects/"

    def headers(self, post: bool = False) -> dict[str, str]:
        h = {"Accept": TAXII, "Authorization": self.auth}
        if post:
            h["Content-Type"] = TAXII
        return h

    def connect(self, timeout: float = 60.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


def wait_until_ready(
    proc: subprocess.Popen[bytes], port: int, path: str, auth: str, timeout: float = 60.0
) -> None:
    """Poll `path` until the server answers (any status below 500), or fail with a clear message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            status, _, _ = request(conn, "GET", path, {"Accept": TAXII, "Authorization": auth})
            conn.close()
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Terminate the server we started (SIGTERM, then SIGKILL), and its children."""
    if proc.poll() is not None:
        return
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)
    for child in children:
        if child.is_running():
            child.kill()


def tree_usage(pid: int) -> tuple[int, float]:
    """(RSS in bytes, CPU seconds user+system) of a process plus all its descendants."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0.0
    rss, cpu = 0, 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss += p.memory_info().rss
            times = p.cpu_times()
            cpu += times.user + times.system
    return rss, cpu


@dataclass
class RssSampler:
    """Samples the server's process tree every `interval` s in a thread: max RSS per phase, and CPU
    seconds and wall seconds per phase (so CPU/wall near 1.0 means the one-worker server was saturated)."""

    pid: int
    interval: float = 0.5
    phase: str = "start"
    peaks: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(
        default_factory=dict
    )  # phase -> [server cpu s, wall s, machine cpu s]
    samples: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last_cpu, last_busy, last_t = tree_usage(self.pid)[1], machine_busy(), time.monotonic()
        while not self._stop.is_set():
            (rss, cpu), busy = tree_usage(self.pid), machine_busy()
            now, phase = time.monotonic(), self.phase
            self.peaks[phase] = max(self.peaks.get(phase, 0), rss)
            acc = self.cpu.setdefault(phase, [0.0, 0.0, 0.0])
            acc[0] += max(0.0, cpu - last_cpu)
            acc[1] += now - last_t
            acc[2] += max(0.0, busy - last_busy)
            last_cpu, last_busy, last_t = cpu, busy, now
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def summary(self) -> dict[str, float]:
        mb = {phase: round(v / 2**20, 1) for phase, v in self.peaks.items()}
        mb["max"] = max(mb.values(), default=0.0)
        return mb

    def cpu_share(self) -> dict[str, float]:
        """Server CPU seconds per wall second, by phase (1.0 = one core fully busy)."""
        return {phase: round(c / w, 2) for phase, (c, w, _) in self.cpu.items() if w > 0}

    def machine_share(self) -> dict[str, float]:
        """Whole-machine busy CPU seconds per wall second, by phase (nproc = all cores busy): server,
        clients and anything else running on the machine."""
        return {phase: round(m / w, 2) for phase, (_, w, m) in self.cpu.items() if w > 0}


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores, everything but idle and iowait)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def background_cores(seconds: float = 3.0) -> float:
    """How many cores the rest of the machine keeps busy, measured over `seconds`."""
    start, t0 = machine_busy(), time.monotonic()
    time.sleep(seconds)
    return round((machine_busy() - start) / (time.monotonic() - t0), 2)


def wait_quiet(max_wait: float, threshold: float = 0.25) -> float:
    """Wait (at most `max_wait` s) until other processes use under `threshold` cores; return the last load."""
    deadline = time.monotonic() + max_wait
    load = background_cores()
    while load >= threshold and time.monotonic() < deadline:
        print(f"  machine busy with other processes ({load} cores); waiting for it to settle ...", flush=True)
        time.sleep(10)
        load = background_cores()
    return load


def with_server_cpu(pid: int, phase: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a load phase and add the server's CPU seconds spent in it, its CPU share of the phase's wall
    time, and the work done per server CPU second (a figure that other load on the machine disturbs less)."""
    before = tree_usage(pid)[1]
    result = phase()
    cpu = tree_usage(pid)[1] - before
    work = result.get("objects", result.get("requests", 0))
    result["server_cpu_s"] = round(cpu, 2)
    result["server_cpu_share"] = round(cpu / result["seconds"], 2) if result.get("seconds") else None
    result["per_server_cpu_s"] = round(work / cpu, 1) if cpu > 0 else None
    return result
