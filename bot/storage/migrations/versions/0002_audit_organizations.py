"""Add audit_log.organization_id and its index (the old numbering's step 12).

The buyer organization of a decision's approval, when the bot knew it; old rows keep NULL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("organization_id", sa.String(64)))
    op.create_index("ix_audit_log_organization_id", "audit_log", ["organization_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_organization_id", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("organization_id")
