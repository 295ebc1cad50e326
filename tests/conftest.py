"""Shared fixtures. Every test that touches the store runs twice: on SQLite and on a real throwaway
PostgreSQL (pgserver), each test on a fresh, fully migrated database. `--db sqlite|postgresql|both`."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from gesher.api.app import create_app
from gesher.exchange import policies
from gesher.exchange.collections import create_collection
from gesher.exchange.node import Node
from gesher.partners import service
from gesher.settings import Settings
from gesher.store.db import Database
from gesher.store.migrate import upgrade
from tests.databases import TEMPLATE, fresh_postgres_database, sqlalchemy_uri

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TAXII = "application/taxii+json;version=2.1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default="both", choices=["sqlite", "postgresql", "both"], help="stores to test")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_kind" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        kinds = ["sqlite", "postgresql"] if chosen == "both" else [chosen]
        if metafunc.definition.get_closest_marker("postgresql_only"):
            kinds = [k for k in kinds if k == "postgresql"]  # a race SQLite cannot have (one writer)
        metafunc.parametrize("db_kind", kinds, scope="session")


@pytest.fixture(scope="session")
def pg_base_uri() -> Iterator[str]:
    """A throwaway PostgreSQL server for the whole session, with a migrated template database."""
    import pgserver  # test-only dependency; imported lazily so SQLite-only runs need no server

    folder = tempfile.mkdtemp(prefix="gesher-pg-")
    server = pgserver.get_server(folder, cleanup_mode="stop")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/tmp/...
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    template = Database(sqlalchemy_uri(uri, TEMPLATE))
    upgrade(template)
    template.dispose()
    yield uri
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def db_url(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'gesher.db'}"
        return
    with fresh_postgres_database(request.getfixturevalue("pg_base_uri"), "t") as url:
        yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=db_url)


@pytest.fixture
def node(settings: Settings) -> Iterator[Node]:
    node = Node.init(settings)
    yield node
    node.db.dispose()


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node.settings, node)) as test_client:
        yield test_client


# The policy the shared `world` runs under: its partners are vetted and named, so TLP up to AMBER at any tier
# reaches them (tests of the policy itself load their own).
WORLD_POLICY = """
version: 1
rules:
  - name: test-partners
    partners: [reader, writer, outsider]
    max_tlp: AMBER
    max_tier: offensive
"""


class World:
    """A small exchange: two collections and partners with different grants, tokens kept for tests."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.tokens: dict[str, str] = {}
        with node.db.write() as conn:
            self.intel = create_collection(conn, "test", "intel", "shared intelligence")
            self.secret = create_collection(conn, "test", "secret", "not for partners")
            self.inbox = create_collection(conn, "test", "inbox")
            for name, kind, admin in (
                ("reader", "government", False),
                ("writer", "industry", False),
                ("outsider", "ngo", False),
                ("admin", "government", True),
            ):
                partner, self.tokens[name] = service.create_partner(conn, "test", name, "GB", kind, admin)
                service.set_standing(conn, "test", partner, "test partner", trust_tier=1)
                if name == "reader":
                    service.grant(conn, "test", partner, self.intel, True, False)
                    service.grant(conn, "test", partner, self.inbox, True, True)
                if name == "writer":
                    service.grant(conn, "test", partner, self.intel, True, True)
                    service.grant(conn, "test", partner, self.inbox, False, True)
            policies.load(conn, "test", WORLD_POLICY, "world.yaml", "test world")

    def auth(self, name: str) -> tuple[str, str]:
        return (name, self.tokens[name])

    def headers(self, name: str, **extra: str) -> dict[str, str]:
        return {"Accept": TAXII, "Authorization": f"Bearer {self.tokens[name]}", **extra}


@pytest.fixture
def world(node: Node) -> World:
    return World(node)
