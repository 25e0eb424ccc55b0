"""Add bulk_submissions: one row per submitted Approve / Reject selected confirmation.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
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
        "bulk_submissions",
        sa.Column("view_id", sa.String(64), primary_key=True),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_bulk_submissions_submitted_at", "bulk_submissions", ["submitted_at"])


def downgrade() -> None:
    op.drop_table("bulk_submissions")
