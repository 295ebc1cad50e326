"""the SHA-256 of each stored version, taken at ingest (what the disclosure ledger records when it is served)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stix_objects", sa.Column("sha256", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stix_objects") as batch:
        batch.drop_column("sha256")
