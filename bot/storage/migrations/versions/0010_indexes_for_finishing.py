"""Indexes so a finished process costs the same however many are watched.

- ``entity_follow_processes (process_status_id, channel)``: recording a followed process's
  announcement finds its row by these two, which the primary key (entity first) cannot serve, so
  each announcement read every followed process.
- ``process_batches (single_watch, completed_at)`` and ``(single_watch, card_ts)``: a round looks for
  batches to complete, to post a card for or to redraw, and read every single watch to find them.
  Single watches are completed with their process; one left incomplete with its process finished
  (by an older bot) is completed here, as the round would have done.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_entity_follow_processes_process",
        "entity_follow_processes",
        ["process_status_id", "channel"],
    )
    op.create_index("ix_process_batches_kind_completed", "process_batches", ["single_watch", "completed_at"])
    op.create_index("ix_process_batches_kind_card", "process_batches", ["single_watch", "card_ts"])
    op.execute(
        sa.text(
            "UPDATE process_batches SET completed_at = ("
            "  SELECT max(m.finished_at) FROM batch_processes m WHERE m.batch_id = process_batches.batch_id"
            ") WHERE single_watch = :single AND completed_at IS NULL"
            " AND EXISTS (SELECT 1 FROM batch_processes m WHERE m.batch_id = process_batches.batch_id)"
            " AND NOT EXISTS (SELECT 1 FROM batch_processes m"
            "  WHERE m.batch_id = process_batches.batch_id AND m.finished_at IS NULL)"
        ).bindparams(single=True)
    )


def downgrade() -> None:
    op.drop_index("ix_process_batches_kind_card", table_name="process_batches")
    op.drop_index("ix_process_batches_kind_completed", table_name="process_batches")
    op.drop_index("ix_entity_follow_processes_process", table_name="entity_follow_processes")
