"""Follow-up rows: one per announced approval, counting reminders and marking the escalation.

Each reminder and the escalation is claimed with a compare-and-set on this row before it is posted
(``reminders_sent`` from n to m, ``escalated_at`` from NULL), so of several pollers (replicas, or one
after a restart) exactly one posts it; a failed post puts the row back. Approvals announced in a
backlog summary instead of a card of their own keep that summary here: it is their thread.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, case, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.messaging import MessageRef
from bot.storage.records import CardState, OpenApproval
from bot.storage.rows import Rows
from bot.storage.schema import approval_cards, approval_followups

_THREAD_OF = (
    select(
        approval_cards.c.channel,
        approval_cards.c.ts,
        approval_followups.c.summary_channel,
        approval_followups.c.summary_ts,
    )
    .select_from(
        approval_cards.outerjoin(
            approval_followups, approval_followups.c.approval_id == approval_cards.c.approval_id
        )
    )
    .where(approval_cards.c.approval_id == bindparam("approval_id"))
)
"""Built once (a bound parameter): read before every decision's thread reply."""


@functools.cache
def _summarised(dialect_name: str) -> Insert:
    """The follow-up row of an approval announced in a summary: inserted, or its summary replaced."""
    insert_of = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    return _replacing_the_summary(insert_of(approval_followups))


def _replacing_the_summary(statement: postgresql.Insert | sqlite.Insert) -> Insert:
    """``statement``, where an approval already has its follow-up row, replacing only its summary."""
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=[approval_followups.c.approval_id],
        set_={
            "summary_channel": statement.excluded.summary_channel,
            "summary_ts": statement.excluded.summary_ts,
        },
    )
    return upsert


def _summarised_pg() -> Insert:
    """``_summarised`` on PostgreSQL: the ids as one array parameter, unnested by the server (pages of
    ``executemany`` were most of a 50,000-approval summary's time). Built once."""
    ids = func.unnest(
        bindparam("f_ids", type_=postgresql.ARRAY(approval_followups.c.approval_id.type))
    ).column_valued("approval_id")
    rows = select(
        ids,
        bindparam("f_channel", type_=approval_followups.c.summary_channel.type),
        bindparam("f_ts", type_=approval_followups.c.summary_ts.type),
        literal(0, type_=approval_followups.c.reminders_sent.type),
    )
    return _replacing_the_summary(
        postgresql.insert(approval_followups).from_select(
            ["approval_id", "summary_channel", "summary_ts", "reminders_sent"], rows
        )
    )


_SUMMARISED_PG = _summarised_pg()


class FollowupRows(Rows):
    async def cards_summarised(self, approval_ids: Collection[str], channel: str, ts: str) -> None:
        """Records claimed cards as announced by the summary at ``ts`` (no card of their own: the card
        row is PENDING with no ``ts``). Rows decided meanwhile keep their state.

        Two set statements in one transaction, whatever the number of approvals: their follow-up rows
        written (``ON CONFLICT DO UPDATE``; on PostgreSQL the ids as one array, on SQLite ``executemany``
        pages), then every card of the summary updated through them."""
        rows = [
            {"approval_id": i, "summary_channel": channel, "summary_ts": ts, "reminders_sent": 0}
            for i in dict.fromkeys(approval_ids)
        ]
        if not rows:
            return
        now = self._clock()
        cards = approval_cards.c
        in_summary = select(approval_followups.c.approval_id).where(
            approval_followups.c.summary_channel == channel, approval_followups.c.summary_ts == ts
        )
        async with self._writer.begin() as conn:
            if conn.dialect.name == "postgresql":
                ids = [row["approval_id"] for row in rows]
                parameters = {"f_ids": ids, "f_channel": channel, "f_ts": ts}
                await conn.execute(_SUMMARISED_PG, parameters)
            else:
                await conn.execute(_summarised(conn.dialect.name), rows)
            await conn.execute(
                update(approval_cards)
                .where(cards.approval_id.in_(in_summary))
                .values(
                    channel=channel,
                    posted_at=now,
                    updated_at=now,
                    state=case(
                        (cards.state == CardState.POSTING.value, CardState.PENDING.value), else_=cards.state
                    ),
                )
            )

    async def open_approvals(self) -> list[OpenApproval]:
        """Announced approvals still pending (card state PENDING), oldest announcement first."""
        cards, followups = approval_cards, approval_followups
        query = (
            select(
                cards.c.approval_id,
                cards.c.kind,
                cards.c.channel,
                cards.c.posted_at,
                cards.c.ts,
                followups.c.summary_ts,
                followups.c.reminders_sent,
                followups.c.last_reminded_at,
                followups.c.escalated_at,
            )
            .select_from(cards.outerjoin(followups, followups.c.approval_id == cards.c.approval_id))
            .where(
                cards.c.state == CardState.PENDING.value,
                cards.c.channel.is_not(None),
                cards.c.posted_at.is_not(None),
            )
            .order_by(cards.c.posted_at, cards.c.approval_id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_open_approval(row) for row in rows]

    async def thread_of(self, approval_id: str) -> MessageRef | None:
        """The message whose thread is the approval's history (its card, else its summary); ``None``
        when it was never announced."""
        params = {"approval_id": approval_id}
        row = await self._transactions.read(lambda conn: conn.execute(_THREAD_OF, params).first())
        if row is None:
            return None
        if row.channel and row.ts:
            return MessageRef(row.channel, row.ts)
        if row.summary_channel and row.summary_ts:
            return MessageRef(row.summary_channel, row.summary_ts)
        return None

    async def claim_reminder(self, approval_id: str, sent: int, to: int) -> bool:
        """Compare-and-set ``reminders_sent`` from ``sent`` to ``to``: True for the one caller that may
        post the reminder."""
        async with self._writer.begin() as conn:
            await _ensure_row(conn, approval_id)
            result = await conn.execute(
                update(approval_followups)
                .where(
                    approval_followups.c.approval_id == approval_id,
                    approval_followups.c.reminders_sent == sent,
                )
                .values(reminders_sent=to, last_reminded_at=self._clock())
            )
        return result.rowcount == 1

    async def release_reminder(
        self, approval_id: str, sent: int, to: int, last_reminded_at: datetime | None
    ) -> None:
        """Undoes ``claim_reminder`` (the reminder could not be posted): the next round tries again."""
        async with self._writer.begin() as conn:
            await conn.execute(
                update(approval_followups)
                .where(
                    approval_followups.c.approval_id == approval_id,
                    approval_followups.c.reminders_sent == to,
                )
                .values(reminders_sent=sent, last_reminded_at=last_reminded_at)
            )

    async def claim_escalation(self, approval_id: str) -> bool:
        """Marks the approval escalated; True for the one caller that may post the escalation."""
        async with self._writer.begin() as conn:
            await _ensure_row(conn, approval_id)
            result = await conn.execute(
                update(approval_followups)
                .where(
                    approval_followups.c.approval_id == approval_id,
                    approval_followups.c.escalated_at.is_(None),
                )
                .values(escalated_at=self._clock())
            )
        return result.rowcount == 1

    async def release_escalation(self, approval_id: str) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(approval_followups)
                .where(approval_followups.c.approval_id == approval_id)
                .values(escalated_at=None)
            )


async def _ensure_row(conn: AsyncConnection, approval_id: str) -> None:
    """Creates the approval's follow-up row if it has none (inside the caller's transaction)."""
    exists = await conn.execute(
        select(approval_followups.c.approval_id).where(approval_followups.c.approval_id == approval_id)
    )
    if exists.first() is not None:
        return
    try:
        async with conn.begin_nested():
            await conn.execute(insert(approval_followups).values(approval_id=approval_id, reminders_sent=0))
    except IntegrityError:
        pass  # another poller created it meanwhile: the compare-and-set decides


def _open_approval(row: Any) -> OpenApproval:
    return OpenApproval(
        approval_id=row.approval_id,
        kind=row.kind,
        channel=row.channel,
        posted_at=row.posted_at,
        card_ts=row.ts,
        summary_ts=row.summary_ts,
        reminders_sent=row.reminders_sent or 0,
        last_reminded_at=row.last_reminded_at,
        escalated_at=row.escalated_at,
    )
