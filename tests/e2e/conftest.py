"""Fixtures for end-to-end tests: the real `gesher` CLI and the real `gesher serve` (uvicorn) on 127.0.0.1.

The store is module-scoped (one per database kind, through the session-scoped `db_kind` parameter): the
real STIX data is ingested once per module and database, not once per test. It is built exactly like the
function-scoped `db_url` fixture of tests/conftest.py (a fresh database cloned from the migrated template
on PostgreSQL, a fresh file on SQLite)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil  # installed with pgserver, the test-only PostgreSQL
import pytest
import requests

from tests.databases import fresh_postgres_database

START_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def e2e_db_url(
    db_kind: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-sqlite') / 'gesher.db'}"
        return
    with fresh_postgres_database(request.getfixturevalue("pg_base_uri"), "e2e") as url:
        yield url


class Gesher:
    """The `gesher` command line, run as a separate process against one data directory and store."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.database_url = database_url

    def argv(self, *args: str) -> list[str]:
        base = [sys.executable, "-m", "gesher.cli.main", "--data-dir", str(self.data_dir)]
        return [*base, "--database-url", self.database_url, *args]

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=300, check=False)
        assert (done.returncode == 0) == ok, f"gesher {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(gesher: Gesher, log: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`gesher serve` on a free loopback port; yields its base URL once `/taxii2/` answers (401 is fine)."""
    port = free_port()
    argv = gesher.argv("serve", "--host", "127.0.0.1", "--port", str(port), *extra)
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, f"{base}/taxii2/", log)
        yield base, process
    finally:
        _stop(process)


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gesher serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)  # the port is not listening yet: poll again
    pytest.fail(f"gesher serve did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server and any worker it spawned (only processes this fixture started)."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        child.kill()
