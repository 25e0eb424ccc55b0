"""The bot's own processes: one row per running process (its heartbeat), and its posts under way."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from bot.storage.schema.base import UTCDateTime, metadata

bot_instances = Table(
    "bot_instances",
    metadata,
    Column("instance_id", String(128), primary_key=True),
    Column("replica", String(128), nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

# One row per announcement (kind and id) from just before ``chat.postMessage`` until its outcome is
# recorded: a row left ``unknown``, or ``posting`` by a dead process, is looked up in the channel's
# history before anything is posted again.
post_attempts = Table(
    "post_attempts",
    metadata,
    Column("kind", String(32), primary_key=True),
    # An approval or batch id; ``<channel>/<process id>`` for a followed entity's process,
    # ``<channel>/<day>`` for a daily digest.
    Column("subject_id", String(160), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False),
    # The message an attempt replies to (a batch card's ``ts``), so a reply whose answer was lost is
    # looked up in its thread; NULL for a top-level announcement.
    Column("thread_ts", String(32)),
)
