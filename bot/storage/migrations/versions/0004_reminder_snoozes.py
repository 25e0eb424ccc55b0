"""Add reminder_snoozes: approvers' snoozed reminders (the old numbering's step 14).


Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_snoozes",
        sa.Column("approval_id", sa.String(64), primary_key=True),
        sa.Column("slack_user_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reminder_snoozes_requested_at", "reminder_snoozes", ["requested_at"])


def downgrade() -> None:
    op.drop_table("reminder_snoozes")
