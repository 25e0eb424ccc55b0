"""The schema release 77cc4db left (the old numbering's version 11), process_watches included.

A database that release made is stamped at this revision (``bot.storage.migrations`` recognises
its ``schema_version`` table) and nothing here runs on it; a new database is created from here.
Frozen: written out in full, never read from the runtime tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def _approvals() -> None:
    op.create_table(
        "approval_cards",
        sa.Column("approval_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("ts", sa.String(64)),
        sa.Column("posted_at", TIME),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("submitter_name", sa.String(200)),
        sa.Column("order_details", sa.Text),
    )
    op.create_index("ix_approval_cards_state", "approval_cards", ["state"])
    op.create_table(
        "decision_claims",
        sa.Column("approval_id", sa.String(64), primary_key=True),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("claimed_at", TIME, nullable=False),
        sa.Column("owner", sa.String(128)),
    )
    op.create_table(
        "approval_votes",
        sa.Column("approval_id", sa.String(64), primary_key=True),
        sa.Column("slack_user_id", sa.String(64), primary_key=True),
        sa.Column("voted_at", TIME, nullable=False),
    )
    op.create_index("ix_approval_votes_voted_at", "approval_votes", ["voted_at"])
    op.create_table(
        "approval_followups",
        sa.Column("approval_id", sa.String(64), primary_key=True),
        sa.Column("summary_channel", sa.String(64)),
        sa.Column("summary_ts", sa.String(64)),
        sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_reminded_at", TIME),
        sa.Column("escalated_at", TIME),
    )
    op.create_table(
        "daily_digests",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("claimed_at", TIME, nullable=False),
        sa.Column("ts", sa.String(64)),
    )


def _audit() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("approval_id", sa.String(64)),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("slack_user_name", sa.String(200)),
        sa.Column("commerce_user_id", sa.String(64)),
        sa.Column("commerce_logon_id", sa.String(254)),
    )
    op.create_index("ix_audit_log_approval_id", "audit_log", ["approval_id"])
    op.create_table(
        "identity_links",
        sa.Column("slack_user_id", sa.String(64), primary_key=True),
        sa.Column("commerce_logon_id", sa.String(254), nullable=False),
        sa.Column("commerce_user_id", sa.String(64), nullable=False),
        sa.Column("linked_by", sa.String(64), nullable=False),
        sa.Column("linked_at", TIME, nullable=False),
    )
    op.create_index("ix_identity_links_commerce_user_id", "identity_links", ["commerce_user_id"])


def _batches() -> None:
    op.create_table(
        "process_batches",
        sa.Column("batch_id", sa.String(32), primary_key=True),
        sa.Column("request_key", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("notify", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("card_ts", sa.String(64)),
        sa.Column("card_claimed_at", TIME),
        sa.Column("changes", sa.Integer, nullable=False),
        sa.Column("shown_changes", sa.Integer, nullable=False),
        sa.Column("completed_at", TIME),
        sa.Column("summary_state", sa.String(16)),
        sa.Column("summary_claimed_at", TIME),
        sa.Column("single_watch", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_process_batches_created_at", "process_batches", ["created_at"])
    op.create_index("ix_process_batches_completed_at", "process_batches", ["completed_at"])
    op.create_table(
        "batch_processes",
        sa.Column("batch_id", sa.String(32), primary_key=True),
        sa.Column("process_status_id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(100)),
        sa.Column("event_type", sa.String(64)),
        sa.Column("error_message", sa.Text),
        sa.Column("finished_at", TIME),
        sa.Column("stuck", sa.Boolean, nullable=False),
        sa.Column("reply_state", sa.String(16)),
        sa.Column("reply_claimed_at", TIME),
        sa.Column("reply_ts", sa.String(64)),
    )
    op.create_index("ix_batch_processes_finished_at", "batch_processes", ["finished_at"])
    op.create_index("ix_batch_processes_reply_state", "batch_processes", ["reply_state"])
    active = sa.text("finished_at IS NULL")
    op.create_index(
        "ux_batch_processes_active",
        "batch_processes",
        ["channel", "process_status_id"],
        unique=True,
        sqlite_where=active,
        postgresql_where=active,
    )
    op.create_index(
        "ix_batch_processes_unfinished_by_id",
        "batch_processes",
        ["finished_at", "process_status_id", "batch_id"],
    )


def _follows_and_watches() -> None:
    op.create_table(
        "entity_follows",
        sa.Column("entity_id", sa.String(100), primary_key=True),
        sa.Column("event_type", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("baselined", sa.Boolean, nullable=False),
    )
    op.create_table(
        "entity_follow_processes",
        sa.Column("entity_id", sa.String(100), primary_key=True),
        sa.Column("event_type", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("process_status_id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("announce_state", sa.String(16)),
        sa.Column("announce_claimed_at", TIME),
        sa.Column("message_ts", sa.String(64)),
    )
    # Emptied into single-watch batches by the old step 5; dropped by revision 0005.
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


def _instances() -> None:
    op.create_table(
        "bot_instances",
        sa.Column("instance_id", sa.String(128), primary_key=True),
        sa.Column("replica", sa.String(128), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("heartbeat_at", TIME, nullable=False),
    )
    op.create_index("ix_bot_instances_replica", "bot_instances", ["replica"])
    op.create_table(
        "post_attempts",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("subject_id", sa.String(160), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("thread_ts", sa.String(32)),
    )
    op.create_index("ix_post_attempts_state", "post_attempts", ["state"])
    # The old numbering's own record; dropped by revision 0005.
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("applied_at", TIME, nullable=False),
    )


def upgrade() -> None:
    _approvals()
    _audit()
    _batches()
    _follows_and_watches()
    _instances()


def downgrade() -> None:
    for table in (
        "schema_version",
        "post_attempts",
        "bot_instances",
        "process_watches",
        "entity_follow_processes",
        "entity_follows",
        "batch_processes",
        "process_batches",
        "identity_links",
        "audit_log",
        "daily_digests",
        "approval_followups",
        "approval_votes",
        "decision_claims",
        "approval_cards",
    ):
        op.drop_table(table)
