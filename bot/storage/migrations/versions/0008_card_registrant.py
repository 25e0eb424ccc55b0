"""Add approval_cards.registrant: who registered, as a buyer approval's card shows it.

Cards from before keep NULL (their rewrites show no registrant, as before).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("approval_cards", sa.Column("registrant", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("approval_cards") as batch:
        batch.drop_column("registrant")
