"""early warning: indicator match keys, partner sightings and alerts (issue 7)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_keys",
        sa.Column("token", sa.String(length=600), nullable=False),
        sa.Column("indicator_id", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("token", "indicator_id", name=op.f("pk_indicator_keys")),
    )
    op.create_table(
        "indicator_decay",
        sa.Column("indicator_id", sa.String(length=300), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("base_score", sa.Float(), nullable=False),
        sa.Column("reset_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("indicator_id", name=op.f("pk_indicator_decay")),
    )
    op.create_table(
        "sightings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=600), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_sightings_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sightings")),
    )
    op.create_index(op.f("ix_sightings_token_seen_at"), "sightings", ["token", "seen_at"])
    op.create_index(op.f("ix_sightings_partner_id_received_at"), "sightings", ["partner_id", "received_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=300), nullable=False),
        sa.Column("token", sa.String(length=600), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.BigInteger(), nullable=False),
        sa.Column("organisations", sa.Integer(), nullable=False),
        sa.Column("published", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_token_raised_at"), "alerts", ["token", "raised_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_token_raised_at"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index(op.f("ix_sightings_partner_id_received_at"), table_name="sightings")
    op.drop_index(op.f("ix_sightings_token_seen_at"), table_name="sightings")
    op.drop_table("sightings")
    op.drop_table("indicator_decay")
    op.drop_table("indicator_keys")
