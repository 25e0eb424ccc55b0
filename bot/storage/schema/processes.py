"""bol.com process statuses: batches (a single watch is a batch of one) and followed entities.

``batch_processes`` has one *active* row per (channel, process) at most (a partial unique index):
the same id handed in twice is watched once.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, false

from bot.storage.schema.base import UTCDateTime, metadata

process_batches = Table(
    "process_batches",
    metadata,
    Column("batch_id", String(32), primary_key=True),
    Column("request_key", String(64), nullable=False, unique=True),
    Column("channel", String(64), nullable=False),
    Column("label", String(200)),
    Column("notify", String(16), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("card_ts", String(64)),
    Column("card_claimed_at", UTCDateTime),
    Column("changes", Integer, nullable=False, default=0),
    Column("shown_changes", Integer, nullable=False, default=0),
    Column("completed_at", UTCDateTime, index=True),
    Column("summary_state", String(16)),
    Column("summary_claimed_at", UTCDateTime),
    # A single watch (``/process-status watch``): a batch of one, posted as one message, no card.
    Column("single_watch", Boolean, nullable=False, default=False, server_default=false()),
)

batch_processes = Table(
    "batch_processes",
    metadata,
    Column("batch_id", String(32), primary_key=True),
    Column("process_status_id", String(64), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("entity_id", String(100)),
    Column("event_type", String(64)),
    Column("error_message", Text),
    Column("finished_at", UTCDateTime, index=True),
    Column("stuck", Boolean, nullable=False, default=False),
    Column("reply_state", String(16), index=True),
    Column("reply_claimed_at", UTCDateTime),
    Column("reply_ts", String(64)),
)

Index(
    "ux_batch_processes_active",
    batch_processes.c.channel,
    batch_processes.c.process_status_id,
    unique=True,
    sqlite_where=batch_processes.c.finished_at.is_(None),
    postgresql_where=batch_processes.c.finished_at.is_(None),
)
# The active processes in process id order, so a poll reads them a page at a time and the rows of one
# id (watched in several channels) come together. Not a partial index: SQLite's planner would prefer
# the plain index on finished_at and sort every active row for each page; with finished_at leading,
# "IS NULL" and the page's key are one range.
Index(
    "ix_batch_processes_unfinished_by_id",
    batch_processes.c.finished_at,
    batch_processes.c.process_status_id,
    batch_processes.c.batch_id,
)

entity_follows = Table(
    "entity_follows",
    metadata,
    Column("entity_id", String(100), primary_key=True),
    Column("event_type", String(64), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("requested_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("baselined", Boolean, nullable=False, default=False),
)

entity_follow_processes = Table(
    "entity_follow_processes",
    metadata,
    Column("entity_id", String(100), primary_key=True),
    Column("event_type", String(64), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("process_status_id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("announce_state", String(16)),
    Column("announce_claimed_at", UTCDateTime),
    Column("message_ts", String(64)),
)
