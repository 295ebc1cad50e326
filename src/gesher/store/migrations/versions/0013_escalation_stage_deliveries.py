"""webhook deliveries per escalation stage: stage 2 of an unacknowledged alert notifies again (issue 7)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows already queued are the alert's own (stage 0) or a stage-1 escalation's; 0 keeps them unique.
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("stage", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_webhook_deliveries_webhook_id_alert_id_event", type_="unique")
        batch.create_unique_constraint(
            "uq_webhook_deliveries_webhook_id_alert_id_event_stage",
            ["webhook_id", "alert_id", "event", "stage"],
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_constraint("uq_webhook_deliveries_webhook_id_alert_id_event_stage", type_="unique")
        batch.drop_column("stage")
        batch.create_unique_constraint(
            "uq_webhook_deliveries_webhook_id_alert_id_event", ["webhook_id", "alert_id", "event"]
        )
