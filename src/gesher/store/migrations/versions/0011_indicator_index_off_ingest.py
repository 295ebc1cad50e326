"""the indicator index leaves ingest's hot path: per-collection cursors; indicators no longer name
themselves in `indicator_keys` (held is asked of stix_objects); decay inputs are read from the stored
indicator when needed, so `indicator_decay` goes (issue 7; the ingest regression measured at 1M)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_key_cursors",
        sa.Column("collection_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("date_added", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_key"],
            ["collections.key"],
            name=op.f("fk_indicator_key_cursors_collection_key_collections"),
        ),
        sa.PrimaryKeyConstraint("collection_key", name=op.f("pk_indicator_key_cursors")),
    )
    op.execute("DELETE FROM indicator_keys WHERE token = indicator_id")
    op.drop_table("indicator_decay")


def downgrade() -> None:
    op.create_table(
        "indicator_decay",
        sa.Column("indicator_id", sa.String(length=300), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("base_score", sa.Float(), nullable=False),
        sa.Column("reset_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("indicator_id", name=op.f("pk_indicator_decay")),
    )
    op.drop_table("indicator_key_cursors")
