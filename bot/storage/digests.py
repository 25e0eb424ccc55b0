"""Daily digest rows, one per (day, channel): inserting it is the right to post that day's digest.

Also the reads a digest and App Home make over other tables: decisions taken in a time window or by
one user, and process watches that finished or that a user started.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.audit import audit_entry_of
from bot.storage.records import AuditEntry, Watch
from bot.storage.rows import Rows
from bot.storage.schema import DECIDED_ACTIONS, audit_log, batch_processes, daily_digests, process_batches
from bot.storage.watches import watch_of, watch_query

OK = "ok"


class DigestRows(Rows):
    async def claim_digest(self, day: str, channel: str) -> bool:
        """Claims the right to post ``day``'s digest (``YYYY-MM-DD``) in ``channel``; False if taken."""
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(daily_digests).values(day=day, channel=channel, claimed_at=self._clock())
                )
        except IntegrityError:
            return False
        return True

    async def release_digest(self, day: str, channel: str) -> None:
        """The digest could not be posted: the next round tries again."""
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(daily_digests).where(daily_digests.c.day == day, daily_digests.c.channel == channel)
            )

    async def record_digest_message(self, day: str, channel: str, ts: str) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(daily_digests)
                .where(daily_digests.c.day == day, daily_digests.c.channel == channel)
                .values(ts=ts)
            )

    async def decisions_between(self, start: datetime, end: datetime) -> list[AuditEntry]:
        """Decisions taken from Slack (outcome ok) in ``[start, end)``, oldest first."""
        query = (
            select(audit_log)
            .where(
                audit_log.c.outcome == OK,
                audit_log.c.action.in_(DECIDED_ACTIONS),
                audit_log.c.at >= start,
                audit_log.c.at < end,
            )
            .order_by(audit_log.c.at, audit_log.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [audit_entry_of(row) for row in rows]

    async def decisions_by(self, slack_user_id: str, limit: int) -> list[AuditEntry]:
        """The user's last ``limit`` decisions taken from Slack (outcome ok), newest first."""
        query = (
            select(audit_log)
            .where(
                audit_log.c.slack_user_id == slack_user_id,
                audit_log.c.outcome == OK,
                audit_log.c.action.in_(DECIDED_ACTIONS),
            )
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [audit_entry_of(row) for row in rows]

    async def watches_finished_between(
        self, start: datetime, end: datetime, states: tuple[str, ...]
    ) -> list[Watch]:
        """Watches that finished in ``[start, end)`` in one of ``states``, oldest first."""
        members = batch_processes.c
        query = (
            watch_query(single=False)
            .where(members.finished_at >= start, members.finished_at < end, members.state.in_(states))
            .order_by(members.finished_at)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [watch_of(row) for row in rows]

    async def watches_started_by(self, slack_user_id: str, limit: int) -> list[Watch]:
        """The user's ``limit`` most recent watches, active or finished, newest first."""
        batches = process_batches.c
        query = (
            watch_query(single=True)
            .where(batches.requested_by == slack_user_id)
            .order_by(batches.created_at.desc(), batch_processes.c.process_status_id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [watch_of(row) for row in rows]
