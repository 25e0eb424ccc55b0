"""Add ix_batch_processes_active_by_id: the active processes in process id order, a partial index.

PostgreSQL cannot read ix_batch_processes_unfinished_by_id in order under ``finished_at IS NULL``
(it sorted every 1,000-row page of the process poll); this index holds only active processes, keyed
as the poll pages them, so each page is one range read in order. SQLite goes on using the older index.

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
    active = sa.text("finished_at IS NULL")
    op.create_index(
        "ix_batch_processes_active_by_id",
        "batch_processes",
        ["process_status_id", "batch_id"],
        sqlite_where=active,
        postgresql_where=active,
    )


def downgrade() -> None:
    op.drop_index("ix_batch_processes_active_by_id", table_name="batch_processes")
