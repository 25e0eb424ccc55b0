"""Snoozed reminders: an approver asked to be reminded of one approval later (in 1 h, or tomorrow
morning). The reminder that follows takes the row (a DELETE that one replica wins), so it comes once.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.storage.db import reminder_snoozes
from bot.storage.records import Snooze
from bot.storage.rows import Rows


class SnoozeRows(Rows):
    async def snooze_reminder(self, approval_id: str, slack_user_id: str, kind: str) -> Snooze:
        """Records (or replaces) ``slack_user_id``'s snooze of ``approval_id``'s reminders, from now."""
        snooze = Snooze(approval_id, slack_user_id, kind, self._clock())
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(reminder_snoozes).where(
                    reminder_snoozes.c.approval_id == approval_id,
                    reminder_snoozes.c.slack_user_id == slack_user_id,
                )
            )
            await conn.execute(
                reminder_snoozes.insert().values(
                    approval_id=approval_id,
                    slack_user_id=slack_user_id,
                    kind=kind,
                    requested_at=snooze.requested_at,
                )
            )
        return snooze

    async def snoozes(self) -> list[Snooze]:
        """Every snooze, oldest first."""
        query = select(reminder_snoozes).order_by(reminder_snoozes.c.requested_at)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Snooze(r.approval_id, r.slack_user_id, r.kind, r.requested_at) for r in rows]

    async def take_snooze(self, snooze: Snooze) -> bool:
        """Removes ``snooze`` if it is still as read; False when another round (or a newer snooze)
        got there first."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(reminder_snoozes).where(
                    reminder_snoozes.c.approval_id == snooze.approval_id,
                    reminder_snoozes.c.slack_user_id == snooze.slack_user_id,
                    reminder_snoozes.c.requested_at == snooze.requested_at,
                )
            )
        return int(result.rowcount or 0) == 1
