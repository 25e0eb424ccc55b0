"""Add approval_cards.organization_id: the buyer organization a card shows, for the audit row.

A decision's audit row names the organization its card shows, and the Details modal's history counts
by it. The row took it from the card as the click read it, which could be before the bot had
Slack's answer to the post (Slack shows a card first), so such a decision counted for nobody. With
the organization on the card row, the decision's transaction takes it from the card as it is then,
and a post recorded after the decision completes the audit row.

Existing cards get it from the registrant or order details they keep (the JSON the bot wrote), and
decisions recorded without it get their card's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

cards = sa.table(
    "approval_cards",
    sa.column("approval_id", sa.String),
    sa.column("order_details", sa.Text),
    sa.column("registrant", sa.Text),
    sa.column("organization_id", sa.String),
)
audit = sa.table(
    "audit_log",
    sa.column("approval_id", sa.String),
    sa.column("action", sa.String),
    sa.column("organization_id", sa.String),
)


def upgrade() -> None:
    op.add_column("approval_cards", sa.Column("organization_id", sa.String(64)))
    conn = op.get_bind()
    shown = conn.execute(
        sa.select(cards.c.approval_id, cards.c.registrant, cards.c.order_details).where(
            sa.or_(cards.c.registrant.is_not(None), cards.c.order_details.is_not(None))
        )
    ).all()
    named = [
        {"b_approval_id": row.approval_id, "b_organization_id": organization}
        for row in shown
        if (organization := _organization(row.registrant) or _organization(row.order_details))
    ]
    if named:
        conn.execute(
            cards.update()
            .where(cards.c.approval_id == sa.bindparam("b_approval_id"))
            .values(organization_id=sa.bindparam("b_organization_id")),
            named,
        )
    conn.execute(
        audit.update()
        .where(audit.c.organization_id.is_(None), audit.c.action.in_(("approve", "reject")))
        .values(
            organization_id=sa.select(cards.c.organization_id)
            .where(cards.c.approval_id == audit.c.approval_id)
            .scalar_subquery()
        )
    )


def _organization(stored: str | None) -> str | None:
    """``organization_id`` of a registrant's or an order's JSON as the bot wrote it; ``None`` when
    there is none or it cannot be read."""
    try:
        value = json.loads(stored or "null")
    except ValueError:
        return None
    organization = value.get("organization_id") if isinstance(value, dict) else None
    return str(organization)[:64] if organization else None


def downgrade() -> None:
    with op.batch_alter_table("approval_cards") as batch:
        batch.drop_column("organization_id")
