"""Add card_copies: an approval's card sent as DMs (the old numbering's step 13).


Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_copies",
        sa.Column("approval_id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("ts", sa.String(64), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_card_copies_posted_at", "card_copies", ["posted_at"])


def downgrade() -> None:
    op.drop_table("card_copies")
