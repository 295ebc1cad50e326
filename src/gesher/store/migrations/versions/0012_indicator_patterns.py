"""indicator patterns that are not equalities, kept for early warning's pattern index, built from the
indicator index's cursors (issue 7: observed values evaluated against LIKE, MATCHES, ISSUBSET... patterns)

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
    # No backfill here: the index's builder reads every stored indicator again from cursors set back.
    op.execute("DELETE FROM indicator_key_cursors")
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


def downgrade() -> None:
    op.drop_table("indicator_patterns")
