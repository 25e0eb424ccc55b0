"""Drop the emptied process_watches table and the old numbering's schema_version table.

Single watches are batches of one since the old step 5, which emptied ``process_watches``; Alembic's
``alembic_version`` says where a database stands now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_index("ix_process_watches_finished_at", table_name="process_watches")
    op.drop_table("process_watches")
    op.drop_table("schema_version")


def downgrade() -> None:
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("applied_at", TIME, nullable=False),
    )
    op.create_table(
        "process_watches",
        sa.Column("process_status_id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("last_state", sa.String(32)),
        sa.Column("message_ts", sa.String(64)),
        sa.Column("finished_at", TIME),
    )
    op.create_index("ix_process_watches_finished_at", "process_watches", ["finished_at"])
