"""Index entity_follow_processes by (process_status_id, channel): recording a followed process's
announcement finds its row by these two, which the primary key (entity first) cannot serve, so each
announcement read every followed process.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_entity_follow_processes_process",
        "entity_follow_processes",
        ["process_status_id", "channel"],
    )


def downgrade() -> None:
    op.drop_index("ix_entity_follow_processes_process", table_name="entity_follow_processes")
