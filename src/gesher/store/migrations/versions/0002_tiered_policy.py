"""tiered sharing policy: access labels, trust tiers, policies, release gate

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_labels")),
        sa.UniqueConstraint("digest", name=op.f("uq_access_labels_digest")),
    )
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
    )
    op.create_table(
        "release_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("collection_key", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_key"],
            ["collections.key"],
            name=op.f("fk_release_events_collection_key_collections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_events")),
    )
    op.create_index(
        op.f("ix_release_events_collection_key_object_id_version"),
        "release_events",
        ["collection_key", "object_id", "version"],
    )
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("trust_tier", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sectors", sa.Text(), nullable=False, server_default=""))
    # Existing versions get no label (never served to partners) until `gesher policy relabel` runs.
    with op.batch_alter_table("stix_objects") as batch:
        batch.add_column(sa.Column("label_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("released", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("uniform", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.create_foreign_key(
            op.f("fk_stix_objects_label_id_access_labels"), "access_labels", ["label_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("stix_objects") as batch:
        batch.drop_constraint(op.f("fk_stix_objects_label_id_access_labels"), type_="foreignkey")
        batch.drop_column("uniform")
        batch.drop_column("released")
        batch.drop_column("label_id")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("sectors")
        batch.drop_column("trust_tier")
    op.drop_index(op.f("ix_release_events_collection_key_object_id_version"), table_name="release_events")
    op.drop_table("release_events")
    op.drop_table("policies")
    op.drop_table("access_labels")
