"""indicator patterns that are not equalities, kept for early warning's pattern index, with their
per-collection cursors (issue 7: observed values evaluated against LIKE, MATCHES, ISSUBSET... patterns)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No backfill: the cursors start at 0, and the first sighting reads the stored indicators once.
    op.create_table(
        "indicator_patterns",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("indicator_id", sa.String(length=300), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_indicator_patterns")),
        sa.UniqueConstraint("indicator_id", "digest", name=op.f("uq_indicator_patterns_indicator_id_digest")),
    )
    op.create_table(
        "indicator_pattern_cursors",
        sa.Column("collection_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("date_added", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_key"],
            ["collections.key"],
            name=op.f("fk_indicator_pattern_cursors_collection_key_collections"),
        ),
        sa.PrimaryKeyConstraint("collection_key", name=op.f("pk_indicator_pattern_cursors")),
    )


def downgrade() -> None:
    op.drop_table("indicator_pattern_cursors")
    op.drop_table("indicator_patterns")
