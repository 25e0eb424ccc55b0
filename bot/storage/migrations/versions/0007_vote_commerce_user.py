"""Add approval_votes.commerce_user_id: the Commerce user behind a vote when it was cast.

Votes from before keep NULL (counted by Slack user only, as they were).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("approval_votes", sa.Column("commerce_user_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("approval_votes") as batch:
        batch.drop_column("commerce_user_id")
