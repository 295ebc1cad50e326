"""The Alembic migrations build exactly the schema that store/tables.py declares, on both stores: a column
added to one and forgotten in the other fails here, not on an operator's upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gesher.exchange.node import Node
from gesher.store.tables import metadata


def test_migrations_match_the_declared_tables(node: Node) -> None:
    with node.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
