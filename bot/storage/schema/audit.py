"""Who did what, and as whom: the audit log and the Slack users' links to Commerce users."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from bot.storage.schema.base import UTCDateTime, metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("slack_user_id", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("approval_id", String(64), index=True),
    Column("outcome", String(32), nullable=False),
    Column("comment", Text),
    Column("detail", Text),
    Column("slack_user_name", String(200)),
    # The Commerce user a decision was sent as; NULL: the bot's service account.
    Column("commerce_user_id", String(64)),
    Column("commerce_logon_id", String(254)),
    # The buyer organization (``orgUniqueID``) of a decision's approval, when the bot knew it; the
    # Details modal counts the bot's decisions per organization from it.
    Column("organization_id", String(64)),
)
Index("ix_audit_log_organization_id", audit_log.c.organization_id, audit_log.c.at)

DECIDED_ACTIONS = ("approve", "reject")
"""The ``action`` of an audit row that records a decision."""

identity_links = Table(
    "identity_links",
    metadata,
    # One row per linked Slack user: its Commerce logon id and member id.
    Column("slack_user_id", String(64), primary_key=True),
    Column("commerce_logon_id", String(254), nullable=False),
    Column("commerce_user_id", String(64), nullable=False, index=True),
    Column("linked_by", String(64), nullable=False),
    Column("linked_at", UTCDateTime, nullable=False),
)
# One Slack user per Commerce user: two links made at the same moment cannot both be stored.
Index("ux_identity_links_commerce_user", identity_links.c.commerce_user_id, unique=True)
