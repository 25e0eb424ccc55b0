"""The approvals' tables: cards and their DM copies, decision claims, two-person votes, follow-ups,
reminder snoozes and daily digests."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from bot.storage.schema.base import UTCDateTime, metadata

approval_cards = Table(
    "approval_cards",
    metadata,
    Column("approval_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("state", String(32), nullable=False, index=True),
    Column("channel", String(64)),
    Column("ts", String(64)),
    Column("posted_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    # The submitter's name the card showed (a later re-read of the approval may not carry it).
    Column("submitter_name", String(200)),
    # The order's details an order card shows, as the JSON ``bot.services.order_details`` writes
    # (opaque here), so a decision rewrites the card without asking Commerce again; NULL: none shown.
    Column("order_details", Text),
    # Who registered, as a buyer approval's card shows them: the JSON ``bot.commerce.persons`` writes
    # (opaque here), so every rewrite of the card (and its DM copies) keeps them; NULL: none shown.
    Column("registrant", Text),
    # The buyer organization the card shows (its registrant's, or its order's): a decision's audit
    # row names it, whenever the card's post is recorded. NULL: the card shows none.
    Column("organization_id", String(64)),
)

decision_claims = Table(
    "decision_claims",
    metadata,
    Column("approval_id", String(64), primary_key=True),
    Column("slack_user_id", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    # The bot process (``bot_instances``) holding the claim; NULL on claims from before owners.
    Column("owner", String(128)),
)

approval_votes = Table(
    "approval_votes",
    metadata,
    # The two-person rule: one row per (approval, approver), so nobody approves twice.
    Column("approval_id", String(64), primary_key=True),
    Column("slack_user_id", String(64), primary_key=True),
    Column("voted_at", UTCDateTime, nullable=False, index=True),
    # The Commerce user the voter was linked to when the vote was cast; NULL: unlinked then (or a vote
    # from before votes recorded it). Persons are counted by this and by Slack user.
    Column("commerce_user_id", String(64)),
)

approval_followups = Table(
    "approval_followups",
    metadata,
    Column("approval_id", String(64), primary_key=True),
    Column("summary_channel", String(64)),
    Column("summary_ts", String(64)),
    Column("reminders_sent", Integer, nullable=False, server_default="0"),
    Column("last_reminded_at", UTCDateTime),
    Column("escalated_at", UTCDateTime),
)

daily_digests = Table(
    "daily_digests",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("ts", String(64)),
)

card_copies = Table(
    "card_copies",
    metadata,
    # Copies of an approval's card sent as direct messages (a route's ``notify: dm``): one row per
    # (approval, DM channel), so a decision rewrites every copy.
    Column("approval_id", String(64), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("ts", String(64), nullable=False),
    Column("posted_at", UTCDateTime, nullable=False, index=True),
)

reminder_snoozes = Table(
    "reminder_snoozes",
    metadata,
    # An approver's snoozed reminder: ``kind`` ``hour`` or ``morning``, taken (deleted) by the
    # reminder that follows it.
    Column("approval_id", String(64), primary_key=True),
    Column("slack_user_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False, index=True),
)

bulk_submissions = Table(
    "bulk_submissions",
    metadata,
    # A submitted Approve / Reject selected confirmation (its Slack view): inserting the row is the
    # right to decide that selection, so the same submission reaching two replicas (or twice) runs once.
    Column("view_id", String(64), primary_key=True),
    Column("slack_user_id", String(64), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False, index=True),
)
