"""export licensing: items, projects, applications, licences, misuse reports, licensing history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _state_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "licensing_items",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("vendor", sa.String(length=300), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("capability", sa.Text(), nullable=False),
        sa.Column("classification", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_licensing_items")),
    )
    op.create_index(op.f("ix_licensing_items_vendor"), "licensing_items", ["vendor"])
    op.create_table(
        "licensing_projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=300), nullable=False),
        sa.Column("vendor", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        *_state_columns(),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item"], ["licensing_items.name"], name=op.f("fk_licensing_projects_item_licensing_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licensing_projects")),
        sa.UniqueConstraint("item", name=op.f("uq_licensing_projects_item")),
    )
    op.create_index(op.f("ix_licensing_projects_vendor"), "licensing_projects", ["vendor"])
    op.create_table(
        "licensing_applications",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=300), nullable=False),
        sa.Column("vendor", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=200), nullable=False),
        sa.Column("end_user", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        *_state_columns(),
        sa.Column("declared", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item"], ["licensing_items.name"], name=op.f("fk_licensing_applications_item_licensing_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licensing_applications")),
    )
    op.create_index(op.f("ix_licensing_applications_vendor"), "licensing_applications", ["vendor"])
    op.create_index(op.f("ix_licensing_applications_state"), "licensing_applications", ["state"])
    op.create_table(
        "licences",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("application", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=300), nullable=False),
        sa.Column("vendor", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=200), nullable=False),
        sa.Column("end_user", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        *_state_columns(),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application"],
            ["licensing_applications.id"],
            name=op.f("fk_licences_application_licensing_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licences")),
        sa.UniqueConstraint("application", name=op.f("uq_licences_application")),
    )
    op.create_index(op.f("ix_licences_vendor"), "licences", ["vendor"])
    op.create_index(op.f("ix_licences_state"), "licences", ["state"])
    op.create_table(
        "misuse_reports",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("end_user", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        *_state_columns(),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_misuse_reports")),
    )
    op.create_table(
        "licensing_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licensing_events")),
    )
    op.create_index(
        op.f("ix_licensing_events_subject_kind_subject_id_id"),
        "licensing_events",
        ["subject_kind", "subject_id", "id"],
    )


def downgrade() -> None:
    op.drop_table("licensing_events")
    op.drop_table("misuse_reports")
    op.drop_table("licences")
    op.drop_table("licensing_applications")
    op.drop_table("licensing_projects")
    op.drop_table("licensing_items")
