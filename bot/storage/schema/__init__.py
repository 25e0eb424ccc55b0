"""The tables the bot runs against, declared once: a module per concern, each table's columns in one place.

Invariant: the Alembic revisions in ``bot/storage/migrations/versions/`` produce exactly these
tables (``tests/test_schema.py`` compares them on SQLite and PostgreSQL). A change here needs a new
revision; ``docs-drafts/alembic.md`` says how.
"""

from bot.storage.schema.approvals import (
    approval_cards,
    approval_followups,
    approval_votes,
    bulk_submissions,
    card_copies,
    daily_digests,
    decision_claims,
    reminder_snoozes,
)
from bot.storage.schema.audit import DECIDED_ACTIONS, audit_log, identity_links
from bot.storage.schema.base import UTCDateTime, metadata
from bot.storage.schema.instances import bot_instances, post_attempts
from bot.storage.schema.processes import (
    batch_processes,
    entity_follow_processes,
    entity_follows,
    process_batches,
)

__all__ = [
    "DECIDED_ACTIONS",
    "UTCDateTime",
    "approval_cards",
    "approval_followups",
    "approval_votes",
    "audit_log",
    "batch_processes",
    "bot_instances",
    "bulk_submissions",
    "card_copies",
    "daily_digests",
    "decision_claims",
    "entity_follow_processes",
    "entity_follows",
    "identity_links",
    "metadata",
    "post_attempts",
    "process_batches",
    "reminder_snoozes",
]
