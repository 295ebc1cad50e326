"""licensing roles: which partner accounts act in export licensing over REST, and as whom

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licensing_roles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("set_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_licensing_roles_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licensing_roles")),
    )
    op.create_index(op.f("ix_licensing_roles_partner_id_id"), "licensing_roles", ["partner_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_licensing_roles_partner_id_id"), table_name="licensing_roles")
    op.drop_table("licensing_roles")
