"""serve hints: what serving a version may need, found once at ingest

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable and not back-filled: NULL reads as "look at the body", so stores upgraded in place serve
    # exactly as before, only without the shortcut for their older versions.
    op.add_column("stix_objects", sa.Column("serve_hints", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("stix_objects", "serve_hints")
