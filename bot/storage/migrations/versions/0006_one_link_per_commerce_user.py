"""One Slack user per Commerce user: a unique index on identity_links.commerce_user_id.

Links of a Commerce user linked to several Slack users are removed first (which of them is the person
cannot be told, so none keeps it: an operator links the right one again), each with a warning and
an audit row ``duplicate_link_removed``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("bot.storage.migrations")

_links = sa.table(
    "identity_links",
    sa.column("slack_user_id", sa.String),
    sa.column("commerce_logon_id", sa.String),
    sa.column("commerce_user_id", sa.String),
)
_audit = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("slack_user_id", sa.String),
    sa.column("action", sa.String),
    sa.column("approval_id", sa.String),
    sa.column("outcome", sa.String),
    sa.column("detail", sa.Text),
    sa.column("commerce_user_id", sa.String),
    sa.column("commerce_logon_id", sa.String),
)


def upgrade() -> None:
    conn = op.get_bind()
    shared = (
        sa.select(_links.c.commerce_user_id)
        .group_by(_links.c.commerce_user_id)
        .having(sa.func.count() > 1)
        .scalar_subquery()
    )
    removed = conn.execute(
        sa.select(_links.c.slack_user_id, _links.c.commerce_user_id, _links.c.commerce_logon_id).where(
            _links.c.commerce_user_id.in_(shared)
        )
    ).all()
    now = datetime.now(UTC)
    for row in removed:
        log.warning(
            "removing the link of %s to Commerce user %s: that Commerce user was linked to several Slack "
            "users; link the right one again with approvals-bot approvers link",
            row.slack_user_id,
            row.commerce_logon_id,
        )
        conn.execute(
            sa.insert(_audit).values(
                at=now,
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
        conn.execute(
            sa.delete(_links).where(_links.c.commerce_user_id.in_({r.commerce_user_id for r in removed}))
        )
    op.create_index("ux_identity_links_commerce_user", "identity_links", ["commerce_user_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_identity_links_commerce_user", table_name="identity_links")
