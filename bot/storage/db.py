"""Engine, schema and migrations: one SQLAlchemy Core code path for SQLite and PostgreSQL.

* :func:`to_async_url` turns the configured ``DATABASE_URL`` into an async driver URL.
* :func:`create_engine` builds a pooled :class:`AsyncEngine`; for SQLite it creates the file's parent
  folder, enables WAL and a busy timeout on every connection and lets SQLAlchemy (not the ``sqlite3``
  module) emit ``BEGIN``, so DDL is transactional and writers can take the lock up front.
* :func:`sqlite_write_problem` says, before anything starts, why a SQLite file could not be written.
* :func:`migrate` brings the schema to the latest version in one transaction, serialised between
  processes (``BEGIN IMMEDIATE`` on SQLite, ``pg_advisory_xact_lock`` on PostgreSQL).
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    delete,
    event,
    false,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.clock import utcnow
from bot.storage.closed_connections import discard_closed_connections

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_POOL_TIMEOUT_SECONDS = 30.0
KEEPALIVE_IDLE_SECONDS = 30
KEEPALIVE_INTERVAL_SECONDS = 10
KEEPALIVE_COUNT = 3
# Any fixed 64-bit key works; it only has to be the same in every process of this bot.
MIGRATION_LOCK_KEY = 0x6170_7072_6F76_616C  # "approval"
# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN_OPTION = "approvals_bot_sqlite_begin"

_SYNC_TO_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
}


def to_async_url(database_url: str) -> str:
    """``sqlite:///x.db`` -> ``sqlite+aiosqlite:///x.db``, ``postgres(ql)://`` -> ``postgresql+psycopg://``.

    URLs that already name an async driver (or one this function doesn't know) are returned untouched;
    only the scheme is rewritten, so the rest of the URL (and any escaping in it) is kept byte for byte.
    """
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        return database_url
    replacement = _SYNC_TO_ASYNC_DRIVERS.get(scheme.lower())
    return f"{replacement}://{rest}" if replacement else database_url


def safe_url(database_url: str) -> str:
    """The URL with its password masked, for logs and error messages."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://[^@/]*@", "://***@", database_url)


# --------------------------------------------------------------------------------------------- types


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that only accepts aware datetimes, stores UTC and always returns aware UTC.

    PostgreSQL hands back ``timestamptz`` in the session time zone; SQLite keeps no zone at all and
    returns naive values. Both come back as UTC-aware datetimes. Storing everything as UTC also keeps
    SQLite's text comparison (``<``) correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (e.g. datetime.now(UTC))")
        utc = value.astimezone(UTC)
        # SQLite's DATETIME format has no zone: store the UTC wall time.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# -------------------------------------------------------------------------------------------- schema

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)


def _define_v1(md: MetaData) -> tuple[Table, Table, Table, Table]:
    """The tables as migration step 1 creates them.

    The module-level tables below are built from this function while the schema is still at version 1.
    When a later step changes a table, define the new shape for the runtime tables separately and leave
    this function as it is: step 1 must keep creating the version-1 shape so later steps apply on top.
    ``tests/test_store.py`` checks that a migrated database has exactly the columns the runtime tables have.
    """
    cards = Table(
        "approval_cards",
        md,
        Column("approval_id", String(64), primary_key=True),
        Column("kind", String(32), nullable=False),
        Column("state", String(32), nullable=False, index=True),
        Column("channel", String(64)),
        Column("ts", String(64)),
        Column("posted_at", UTCDateTime),
        Column("updated_at", UTCDateTime, nullable=False),
    )
    claims = Table(
        "decision_claims",
        md,
        Column("approval_id", String(64), primary_key=True),
        Column("slack_user_id", String(64), nullable=False),
        Column("action", String(32), nullable=False),
        Column("state", String(32), nullable=False),
        Column("claimed_at", UTCDateTime, nullable=False),
    )
    audit = Table(
        "audit_log",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime, nullable=False),
        Column("slack_user_id", String(64), nullable=False),
        Column("action", String(32), nullable=False),
        Column("approval_id", String(64), index=True),
        Column("outcome", String(32), nullable=False),
        Column("comment", Text),
        Column("detail", Text),
    )
    watches = Table(
        "process_watches",
        md,
        Column("process_status_id", String(64), primary_key=True),
        Column("channel", String(64), primary_key=True),
        Column("slack_user_id", String(64), nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("last_state", String(32)),
        Column("message_ts", String(64)),
        Column("finished_at", UTCDateTime, index=True),
    )
    return cards, claims, audit, watches


approval_cards, decision_claims, audit_log, process_watches = _define_v1(metadata)


def _define_v2(md: MetaData) -> tuple[Table, Table, Table, Table]:
    """Process batches (ingest API, CLI) and entity follows, as migration step 2 creates them.

    Self-contained: step 2 only adds tables, so it applies on top of any version-1 database.
    ``batch_processes`` has one *active* row per (channel, process) at most (a partial unique index):
    the same id handed in twice is watched once.
    """
    batches = Table(
        "process_batches",
        md,
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
    )
    members = Table(
        "batch_processes",
        md,
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
        members.c.channel,
        members.c.process_status_id,
        unique=True,
        sqlite_where=members.c.finished_at.is_(None),
        postgresql_where=members.c.finished_at.is_(None),
    )
    follows = Table(
        "entity_follows",
        md,
        Column("entity_id", String(100), primary_key=True),
        Column("event_type", String(64), primary_key=True),
        Column("channel", String(64), primary_key=True),
        Column("requested_by", String(64), nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("baselined", Boolean, nullable=False, default=False),
    )
    seen = Table(
        "entity_follow_processes",
        md,
        Column("entity_id", String(100), primary_key=True),
        Column("event_type", String(64), primary_key=True),
        Column("channel", String(64), primary_key=True),
        Column("process_status_id", String(64), primary_key=True),
        Column("state", String(16), nullable=False),
        Column("announce_state", String(16)),
        Column("announce_claimed_at", UTCDateTime),
        Column("message_ts", String(64)),
    )
    return batches, members, follows, seen


process_batches, batch_processes, entity_follows, entity_follow_processes = _define_v2(metadata)
# Step 3: a single watch (``/process-status watch``) is a batch of one, posted as one message, no card.
process_batches.append_column(
    Column("single_watch", Boolean, nullable=False, default=False, server_default=false())
)


def _active_by_process_index(members: Table) -> Index:
    """Step ``ACTIVE_BY_ID_VERSION``: the active processes (watches and batches alike) in process id
    order, so a process-status poll reads them a page at a time and the rows of one id (watched in
    several channels) come together."""
    # Not a partial index: SQLite's planner would prefer the plain index on finished_at and sort every
    # active row for each page; with finished_at leading, "IS NULL" and the page's key are one range.
    return Index(
        "ix_batch_processes_unfinished_by_id",
        members.c.finished_at,
        members.c.process_status_id,
        members.c.batch_id,
    )


_active_by_process_index(batch_processes)


def _define_v3_tables(md: MetaData) -> Table:
    """The table step 3 adds: one row per running bot process, kept fresh by its heartbeat."""
    return Table(
        "bot_instances",
        md,
        Column("instance_id", String(128), primary_key=True),
        Column("replica", String(128), nullable=False, index=True),
        Column("started_at", UTCDateTime, nullable=False),
        Column("heartbeat_at", UTCDateTime, nullable=False),
    )


def _v3_columns() -> tuple[tuple[str, Column[Any]], ...]:
    """Columns step 3 adds (new objects each call): which process holds a decision claim, and the
    submitter's name a card showed (a later re-read may not carry it)."""
    return (
        ("decision_claims", Column("owner", String(128))),
        ("approval_cards", Column("submitter_name", String(200))),
    )


bot_instances = _define_v3_tables(metadata)
for _table_name, _column in _v3_columns():
    metadata.tables[_table_name].append_column(_column)


def _define_followups(md: MetaData) -> tuple[Table, Table]:
    """What the approver's day adds (reminders, escalations, backlog summaries, daily digests).

    A table of its own per concern, so this step touches no table another step defines.
    """
    followups = Table(
        "approval_followups",
        md,
        Column("approval_id", String(64), primary_key=True),
        Column("summary_channel", String(64)),
        Column("summary_ts", String(64)),
        Column("reminders_sent", Integer, nullable=False, server_default="0"),
        Column("last_reminded_at", UTCDateTime),
        Column("escalated_at", UTCDateTime),
    )
    digests = Table(
        "daily_digests",
        md,
        Column("day", String(10), primary_key=True),
        Column("channel", String(64), primary_key=True),
        Column("claimed_at", UTCDateTime, nullable=False),
        Column("ts", String(64)),
    )
    return followups, digests


approval_followups, daily_digests = _define_followups(metadata)


def _define_identity_links(md: MetaData) -> Table:
    """Who a Slack user is in Commerce: one row per linked Slack user (its logon id and member id)."""
    return Table(
        "identity_links",
        md,
        Column("slack_user_id", String(64), primary_key=True),
        Column("commerce_logon_id", String(254), nullable=False),
        Column("commerce_user_id", String(64), nullable=False, index=True),
        Column("linked_by", String(64), nullable=False),
        Column("linked_at", UTCDateTime, nullable=False),
    )


def _identity_audit_columns() -> tuple[tuple[str, Column[Any]], ...]:
    """Columns the identity step adds to ``audit_log`` (new objects each call): the Slack user's name,
    and the Commerce user a decision was sent as (``None``: the bot's service account)."""
    return (
        ("audit_log", Column("slack_user_name", String(200))),
        ("audit_log", Column("commerce_user_id", String(64))),
        ("audit_log", Column("commerce_logon_id", String(254))),
    )


identity_links = _define_identity_links(metadata)
for _table_name, _column in _identity_audit_columns():
    metadata.tables[_table_name].append_column(_column)


def _define_votes(md: MetaData) -> Table:
    """The two-person rule's votes: one row per (approval, approver), so nobody approves twice."""
    return Table(
        "approval_votes",
        md,
        Column("approval_id", String(64), primary_key=True),
        Column("slack_user_id", String(64), primary_key=True),
        Column("voted_at", UTCDateTime, nullable=False, index=True),
    )


approval_votes = _define_votes(metadata)


def _define_card_copies(md: MetaData) -> Table:
    """Copies of an approval's card sent as direct messages (a route's ``notify: dm``): one row per
    (approval, DM channel), so a decision rewrites every copy."""
    return Table(
        "card_copies",
        md,
        Column("approval_id", String(64), primary_key=True),
        Column("channel", String(64), primary_key=True),
        Column("ts", String(64), nullable=False),
        Column("posted_at", UTCDateTime, nullable=False, index=True),
    )


card_copies = _define_card_copies(metadata)


def _define_reminder_snoozes(md: MetaData) -> Table:
    """An approver's snoozed reminder: one row per (approval, approver), ``kind`` ``hour`` or
    ``morning``, taken (deleted) by the reminder that follows it."""
    return Table(
        "reminder_snoozes",
        md,
        Column("approval_id", String(64), primary_key=True),
        Column("slack_user_id", String(64), primary_key=True),
        Column("kind", String(16), nullable=False),
        Column("requested_at", UTCDateTime, nullable=False, index=True),
    )


reminder_snoozes = _define_reminder_snoozes(metadata)


def _define_post_attempts(md: MetaData) -> Table:
    """Announcements being posted, or whose post got no answer (the ``post_attempts`` step adds it).

    One row per announcement (kind and id) from just before ``chat.postMessage`` until its outcome is
    recorded: a row left ``unknown``, or ``posting`` by a dead process, is looked up in the channel's
    history before anything is posted again. A table of its own: the step touches no other table.
    """
    return Table(
        "post_attempts",
        md,
        Column("kind", String(32), primary_key=True),
        # An approval or batch id; ``<channel>/<process id>`` for a followed entity's process,
        # ``<channel>/<day>`` for a daily digest.
        Column("subject_id", String(160), primary_key=True),
        Column("channel", String(64), nullable=False),
        Column("owner", String(128), nullable=False),
        Column("state", String(16), nullable=False, index=True),
        Column("started_at", UTCDateTime, nullable=False),
    )


post_attempts = _define_post_attempts(metadata)


def _post_attempt_thread_column() -> Column[Any]:
    """The column the post-attempt threads step adds (a new object each call): the ``ts`` of the message
    an attempt replies to (a batch card's), so a reply whose answer was lost is looked up in its
    thread; ``NULL`` for a top-level announcement."""
    return Column("thread_ts", String(32))


post_attempts.append_column(_post_attempt_thread_column())


def _card_order_details_column() -> Column[Any]:
    """The column the card order details step adds (a new object each call): the order's details an
    order card shows, as the JSON ``bot.services.order_details`` writes (opaque here), so a decision
    rewrites the card with them instead of asking Commerce again; ``NULL`` when it shows none."""
    return Column("order_details", Text)


approval_cards.append_column(_card_order_details_column())


def _audit_organization_column() -> Column[Any]:
    """The column the audit organizations step adds (a new object each call): the buyer organization
    (``orgUniqueID``) a decision's approval belongs to, when the bot knew it; ``NULL`` otherwise. The
    Details modal counts the bot's decisions per organization from it."""
    return Column("organization_id", String(64))


audit_log.append_column(_audit_organization_column())
AUDIT_ORGANIZATION_INDEX = Index("ix_audit_log_organization_id", audit_log.c.organization_id, audit_log.c.at)


# ---------------------------------------------------------------------------------------- migrations


def _add_column(conn: Connection, table_name: str, column: Column[Any]) -> None:
    """A step's new nullable column (no default: rows already there get NULL)."""
    column_type = column.type.compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE {table_name} ADD COLUMN {column.name} {column_type}"))


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _initial_tables(conn: Connection) -> None:
    v1 = MetaData()
    _define_v1(v1)
    v1.create_all(conn)


def _batch_and_follow_tables(conn: Connection) -> None:
    v2 = MetaData()
    _define_v2(v2)
    v2.create_all(conn)


def _claim_owners_and_instances(conn: Connection) -> None:
    v3 = MetaData()
    _define_v3_tables(v3)
    v3.create_all(conn)
    for table_name, column in _v3_columns():
        _add_column(conn, table_name, column)


def _followup_tables(conn: Connection) -> None:
    step = MetaData()
    _define_followups(step)
    step.create_all(conn)


FOLLOWUPS_VERSION = 4
"""The approver's-day step; its number is the only thing to change when steps are renumbered."""


def _single_watches_as_batches(conn: Connection) -> None:
    """Adds ``process_batches.single_watch`` and moves every row of ``process_watches`` into a batch of one
    (finished ones with their state and message, as history); ``process_watches`` stays, empty."""
    default = "0" if conn.dialect.name == "sqlite" else "FALSE"
    conn.execute(
        text(f"ALTER TABLE process_batches ADD COLUMN single_watch BOOLEAN NOT NULL DEFAULT {default}")
    )
    v1 = MetaData()
    old_watches = _define_v1(v1)[3]
    v2 = MetaData()
    batches, members, _, _ = _define_v2(v2)
    batches.append_column(Column("single_watch", Boolean, nullable=False))
    for row in conn.execute(select(old_watches)).all():
        batch_id = uuid.uuid4().hex
        conn.execute(
            insert(batches).values(
                **single_watch_batch(batch_id, row.process_status_id, row.channel, row.slack_user_id),
                created_at=row.created_at,
                completed_at=row.finished_at,
                changes=0,
                shown_changes=0,
            )
        )
        conn.execute(
            insert(members).values(
                batch_id=batch_id,
                process_status_id=row.process_status_id,
                channel=row.channel,
                state=(row.last_state or "PENDING") if row.finished_at is not None else "PENDING",
                finished_at=row.finished_at,
                stuck=False,
                reply_ts=row.message_ts,
            )
        )
    conn.execute(delete(old_watches))


def _post_attempt_table(conn: Connection) -> None:
    step = MetaData()
    _define_post_attempts(step)
    step.create_all(conn)


ACTIVE_BY_ID_VERSION = 9
"""The process-poll index step; self-contained (one new index), so only this number changes when steps
are renumbered."""


def _active_processes_in_id_order(conn: Connection) -> None:
    step = MetaData()
    members = _define_v2(step)[1]
    _active_by_process_index(members).create(conn)


POST_ATTEMPT_THREADS_VERSION = 10
"""The post-attempt threads step; self-contained (one nullable column), so only this number changes
when steps are renumbered."""


def _post_attempt_threads(conn: Connection) -> None:
    _add_column(conn, "post_attempts", _post_attempt_thread_column())


CARD_ORDER_DETAILS_VERSION = 11
"""The card order details step; self-contained (one nullable column), so only this number changes
when steps are renumbered."""


def _card_order_details(conn: Connection) -> None:
    _add_column(conn, "approval_cards", _card_order_details_column())


AUDIT_ORGANIZATIONS_VERSION = 12
"""The audit organizations step; self-contained (one nullable column and its index)."""


def _audit_organizations(conn: Connection) -> None:
    _add_column(conn, "audit_log", _audit_organization_column())
    AUDIT_ORGANIZATION_INDEX.create(conn)


CARD_COPIES_VERSION = 13
"""The card copies step; self-contained (a table of its own)."""


def _card_copy_table(conn: Connection) -> None:
    step = MetaData()
    _define_card_copies(step)
    step.create_all(conn)


REMINDER_SNOOZES_VERSION = 14
"""The reminder snoozes step; self-contained (a table of its own)."""


def _reminder_snooze_table(conn: Connection) -> None:
    step = MetaData()
    _define_reminder_snoozes(step)
    step.create_all(conn)


def single_watch_batch(batch_id: str, process_status_id: str, channel: str, user: str) -> dict[str, Any]:
    """The batch row of a single watch: no request key to repeat (each watch is new), a label to list."""
    return {
        "batch_id": batch_id,
        "request_key": f"watch:{batch_id}",
        "channel": channel,
        "label": f"watch {process_status_id}",
        "notify": "failures",
        "requested_by": user,
        "single_watch": True,
    }


IDENTITY_VERSION = 6
"""The identity-links step; its number is the only thing to change when steps are renumbered."""


def _identity_links(conn: Connection) -> None:
    """Self-contained: a table of its own plus nullable columns on ``audit_log`` (old rows keep NULL)."""
    step = MetaData()
    _define_identity_links(step)
    step.create_all(conn)
    for table_name, column in _identity_audit_columns():
        _add_column(conn, table_name, column)


def _vote_table(conn: Connection) -> None:
    step = MetaData()
    _define_votes(step)
    step.create_all(conn)


VOTES_VERSION = 7
"""The two-person rule's step; self-contained (one new table), so only this number changes when steps
are renumbered."""


ONE_LINK_PER_COMMERCE_USER_VERSION = 15
"""The one-link-per-Commerce-user step; self-contained (an index, and the duplicate links it removes
first), so only this number changes when steps are renumbered or carried over to another tool."""


def _one_link_per_commerce_user_index(table: Table) -> Index:
    """One Slack user per Commerce user: two links made at the same moment cannot both be stored."""
    return Index("ux_identity_links_commerce_user", table.c.commerce_user_id, unique=True)


_one_link_per_commerce_user_index(identity_links)


def _one_link_per_commerce_user(conn: Connection) -> None:
    """Removes every link of a Commerce user linked to more than one Slack user (which of them is the
    person cannot be told, so none keeps it: an operator links the right one again), writes an audit
    row for each, then adds the unique index."""
    links = _define_identity_links(MetaData())
    shared = (
        select(links.c.commerce_user_id)
        .group_by(links.c.commerce_user_id)
        .having(func.count() > 1)
        .scalar_subquery()
    )
    removed = conn.execute(
        select(links.c.slack_user_id, links.c.commerce_user_id, links.c.commerce_logon_id).where(
            links.c.commerce_user_id.in_(shared)
        )
    ).all()
    for row in removed:
        log.warning(
            "removing the link of %s to Commerce user %s: that Commerce user was linked to several Slack "
            "users; link the right one again with approvals-bot approvers link",
            row.slack_user_id,
            row.commerce_logon_id,
        )
        conn.execute(
            insert(audit_log).values(
                at=utcnow(),
                slack_user_id=row.slack_user_id,
                action="unlink",
                approval_id=None,
                outcome="duplicate_link_removed",
                detail=f"Commerce user {row.commerce_logon_id} was linked to more than one Slack user",
                commerce_user_id=row.commerce_user_id,
                commerce_logon_id=row.commerce_logon_id,
            )
        )
    if removed:
        conn.execute(delete(links).where(links.c.commerce_user_id.in_({r.commerce_user_id for r in removed})))
    _one_link_per_commerce_user_index(links).create(conn)


VOTER_COMMERCE_USER_VERSION = 16
"""The votes' Commerce user step; self-contained (one nullable column)."""


def _vote_commerce_user_column() -> Column[Any]:
    """The column the votes' Commerce user step adds (a new object each call): the Commerce user the
    voter was linked to when the vote was cast; ``NULL``: unlinked then (or a vote from before)."""
    return Column("commerce_user_id", String(64))


approval_votes.append_column(_vote_commerce_user_column())


def _voter_commerce_user(conn: Connection) -> None:
    _add_column(conn, "approval_votes", _vote_commerce_user_column())


# Append only; never edit a step that has shipped.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "approval_cards, decision_claims, audit_log, process_watches", _initial_tables),
    Migration(
        2,
        "process_batches, batch_processes, entity_follows, entity_follow_processes",
        _batch_and_follow_tables,
    ),
    Migration(
        3,
        "bot_instances; decision_claims.owner, approval_cards.submitter_name",
        _claim_owners_and_instances,
    ),
    Migration(FOLLOWUPS_VERSION, "approval_followups, daily_digests", _followup_tables),
    Migration(
        5, "process_batches.single_watch; process_watches moved into batches", _single_watches_as_batches
    ),
    Migration(
        IDENTITY_VERSION,
        "identity_links; audit_log.slack_user_name, commerce_user_id, commerce_logon_id",
        _identity_links,
    ),
    Migration(VOTES_VERSION, "approval_votes", _vote_table),
    Migration(8, "post_attempts", _post_attempt_table),
    Migration(
        ACTIVE_BY_ID_VERSION,
        "index of batch_processes by finished_at, process id",
        _active_processes_in_id_order,
    ),
    Migration(POST_ATTEMPT_THREADS_VERSION, "post_attempts.thread_ts", _post_attempt_threads),
    Migration(CARD_ORDER_DETAILS_VERSION, "approval_cards.order_details", _card_order_details),
    Migration(AUDIT_ORGANIZATIONS_VERSION, "audit_log.organization_id", _audit_organizations),
    Migration(CARD_COPIES_VERSION, "card_copies", _card_copy_table),
    Migration(REMINDER_SNOOZES_VERSION, "reminder_snoozes", _reminder_snooze_table),
    Migration(
        ONE_LINK_PER_COMMERCE_USER_VERSION,
        "identity_links: one Slack user per Commerce user (unique index)",
        _one_link_per_commerce_user,
    ),
    Migration(VOTER_COMMERCE_USER_VERSION, "approval_votes.commerce_user_id", _voter_commerce_user),
)
assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1)), "versions must be 1..n"
LATEST_VERSION = MIGRATIONS[-1].version


def _migrate_sync(conn: Connection) -> int:
    if conn.dialect.name == "postgresql":
        # Held until this transaction ends; a second process waits here, then finds nothing to do.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    schema_version.create(conn, checkfirst=True)
    current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
    if current > LATEST_VERSION:
        raise RuntimeError(
            f"database schema is at version {current}, newer than this bot knows ({LATEST_VERSION}); "
            "upgrade the bot"
        )
    for step in MIGRATIONS:
        if step.version <= current:
            continue
        log.info("applying database migration %d: %s", step.version, step.description)
        step.apply(conn)
        conn.execute(
            insert(schema_version).values(
                version=step.version, description=step.description, applied_at=utcnow()
            )
        )
    return LATEST_VERSION


async def migrate(engine: AsyncEngine) -> int:
    """Creates or upgrades the schema in one transaction; safe to run from several processes at once."""
    async with writer(engine).begin() as conn:
        return await conn.run_sync(_migrate_sync)


# ------------------------------------------------------------------------------------------- engines


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool), but SQLite transactions begin with ``BEGIN IMMEDIATE``.

    Taking the write lock at BEGIN means a writer waits (busy_timeout) instead of failing when it would
    have to upgrade a read lock. PostgreSQL ignores the option.
    """
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def sqlite_file(url: URL) -> Path | None:
    """The database file of a file-backed SQLite URL; ``None`` for other databases and ``:memory:``."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database).expanduser()


@dataclass(frozen=True)
class FileIdentity:
    """Which file a SQLite database is (device and inode), to notice it being deleted or replaced."""

    path: Path | None
    device_inode: tuple[int, int] | None

    @classmethod
    def of(cls, database: str | None) -> FileIdentity:
        """The identity of the file now; an empty one for PostgreSQL and in-memory databases."""
        if not database or database == ":memory:" or database.startswith("file:"):
            return cls(None, None)
        path = Path(database).expanduser().absolute()
        try:
            stat = path.stat()
        except OSError:
            return cls(path, None)
        return cls(path, (stat.st_dev, stat.st_ino))

    def problem(self) -> str | None:
        """``None`` while the path still names the file first seen; else what happened to it."""
        if self.path is None or self.device_inode is None:
            return None
        now = FileIdentity.of(str(self.path))
        if now.device_inode is None:
            return f"the database file {self.path} is gone"
        if now.device_inode != self.device_inode:
            return f"the database file {self.path} was replaced by another file"
        return None


def _ensure_sqlite_parent(url: URL) -> None:
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def sqlite_write_problem(database_url: str) -> str | None:
    """Why this process cannot create or write the SQLite file ``database_url`` names, in plain words.

    ``None`` when it can, and for PostgreSQL and in-memory databases. SQLite needs the directory as
    well as the file: it keeps its WAL and shared-memory files next to the database. Missing
    directories are created only under the working directory.
    """
    try:
        path = sqlite_file(make_url(to_async_url(database_url)))
    except ArgumentError:
        return None  # not a URL: opening the store reports it
    if path is None:
        return None
    try:
        if path.exists():
            if path.is_dir():
                return f"{path} is a directory, not a database file"
            if not os.access(path, os.W_OK):
                return f"the database file {path} is not writable"
        existing = path.parent
        while not existing.exists():
            existing = existing.parent
    except OSError as error:
        return f"cannot look into {path.parent}: {error.strerror}"
    if not existing.is_dir():
        return f"{existing} is not a directory"
    if existing != path.parent and not path.parent.resolve().is_relative_to(Path.cwd().resolve()):
        # Creating a tree elsewhere (a typo in DATABASE_URL) would keep the data where nobody looks.
        return f"the directory {path.parent} does not exist (only directories under {Path.cwd()} are created)"
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == path.parent:
            return f"the directory {existing} is not writable"
        return f"cannot create {path.parent}: {existing} is not writable"
    return None


def _enable_wal(cursor: Any) -> None:
    """Switches the file to WAL mode (a no-op once it is WAL).

    The switch needs a lock that busy_timeout does not wait for: when two processes open a new
    database at once, one gets "database is locked" straight away, so it tries again, within the
    busy timeout. Only a brand-new file ever waits here.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def install_sqlite_hooks(engine: Engine, *, file_backed: bool) -> None:
    """Every new connection waits for locks (busy timeout) and, on a file, is in WAL mode; SQLAlchemy
    emits BEGIN itself, of the kind the ``SQLITE_BEGIN_OPTION`` execution option asks for."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN (see _on_begin) instead of the sqlite3 module's legacy behaviour,
        # which skips BEGIN before DDL and SELECT.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if file_backed:
                _enable_wal(cursor)
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def create_engine(database_url: str, *, time_limit_seconds: float | None = None) -> AsyncEngine:
    """A pooled async engine for ``database_url`` (sync-style URLs are accepted, see :func:`to_async_url`).

    For PostgreSQL, ``time_limit_seconds`` bounds connecting and waiting for a pooled connection, and
    TCP keepalives find connections whose peer has vanished (a peer that is there but silent is
    the store's time limit's job: see :mod:`bot.storage.time_limit`).
    """
    url = make_url(to_async_url(database_url))
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_parent(url)
        file_backed = bool(url.database) and url.database != ":memory:"
        # No rollback when a connection goes back to the pool: every transaction here is begun and
        # ended by SQLAlchemy (a connection closed inside one rolls it back itself), so the pool's
        # own reset would be a second, empty ROLLBACK: a round trip to aiosqlite's thread per call.
        engine = create_async_engine(url, pool_reset_on_return=None)
        install_sqlite_hooks(engine.sync_engine, file_backed=file_backed)
        return engine
    seconds = time_limit_seconds or DEFAULT_POOL_TIMEOUT_SECONDS
    engine = create_async_engine(
        url,
        connect_args={
            "connect_timeout": max(2, math.ceil(seconds)),  # libpq's minimum is 2 s
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
            "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
            "keepalives_count": KEEPALIVE_COUNT,
        },
        pool_timeout=seconds,
        pool_size=5,
        max_overflow=10,
        # No pre-ping (a round trip on every checkout): a connection the server closed is seen on its
        # socket as it leaves the pool, and recycling keeps idle ones from going stale.
        pool_recycle=300,
    )
    discard_closed_connections(engine.sync_engine)
    return engine
