"""Process watch rows: one per (process status id, channel); finishing a watch is the right to announce it.

Of several pollers (replicas) that see a process finish, only the one whose ``finish_watch`` changed
the row announces; a failed announcement reopens the watch for the next round.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.db import process_watches
from bot.storage.records import Watch
from bot.storage.rows import CLAIM_ATTEMPTS, Rows


class WatchRows(Rows):
    async def add_watch(self, process_status_id: str, channel: str, slack_user_id: str) -> bool:
        """Starts watching; False if already actively watched in ``channel``. A finished watch is re-armed."""
        key = _watch_key(process_status_id, channel)
        for _ in range(CLAIM_ATTEMPTS):
            now = self._clock()
            try:
                async with self._writer.begin() as conn:
                    await conn.execute(
                        insert(process_watches).values(
                            process_status_id=process_status_id,
                            channel=channel,
                            slack_user_id=slack_user_id,
                            created_at=now,
                        )
                    )
                return True
            except IntegrityError:
                pass
            async with self._writer.begin() as conn:
                rearmed = await conn.execute(
                    update(process_watches)
                    .where(*key, process_watches.c.finished_at.is_not(None))
                    .values(
                        slack_user_id=slack_user_id,
                        created_at=now,
                        last_state=None,
                        message_ts=None,
                        finished_at=None,
                    )
                )
                if rearmed.rowcount == 1:
                    return True
                if (await conn.execute(select(process_watches.c.channel).where(*key))).first() is not None:
                    return False  # active
            # removed between our INSERT and UPDATE: try again
        return False

    async def remove_watch(self, process_status_id: str, channel: str) -> bool:
        """Stops an active watch; False if there was none (finished watches are kept as history)."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(process_watches).where(
                    *_watch_key(process_status_id, channel), process_watches.c.finished_at.is_(None)
                )
            )
        return result.rowcount > 0

    async def active_watches(self) -> list[Watch]:
        """Unfinished watches, oldest first."""
        query = (
            select(process_watches)
            .where(process_watches.c.finished_at.is_(None))
            .order_by(
                process_watches.c.created_at, process_watches.c.process_status_id, process_watches.c.channel
            )
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_watch(row) for row in rows]

    async def prune_finished_watches(self, older_than: datetime) -> int:
        """Deletes watches that finished before ``older_than``; how many went."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(process_watches).where(
                    process_watches.c.finished_at.is_not(None), process_watches.c.finished_at < older_than
                )
            )
        return int(result.rowcount or 0)

    async def get_watch(self, process_status_id: str, channel: str) -> Watch | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(process_watches).where(*_watch_key(process_status_id, channel)))
            ).first()
        return None if row is None else _watch(row)

    async def finish_watch(self, process_status_id: str, channel: str, last_state: str) -> bool:
        """Marks an active watch finished in ``last_state``.

        Returns False when the watch was not active (another poller finished it first): only the
        caller that gets True may announce the result.
        """
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(process_watches)
                .where(*_watch_key(process_status_id, channel), process_watches.c.finished_at.is_(None))
                .values(last_state=last_state, finished_at=self._clock())
            )
        return bool(result.rowcount)

    async def reopen_watch(self, process_status_id: str, channel: str) -> None:
        """Makes a finished watch active again: its announcement could not be posted."""
        async with self._writer.begin() as conn:
            await conn.execute(
                update(process_watches)
                .where(*_watch_key(process_status_id, channel))
                .values(finished_at=None)
            )

    async def record_watch_message(self, process_status_id: str, channel: str, message_ts: str) -> None:
        """Records where a (finished) watch's announcement was posted."""
        async with self._writer.begin() as conn:
            await conn.execute(
                update(process_watches)
                .where(*_watch_key(process_status_id, channel))
                .values(message_ts=message_ts)
            )


def _watch_key(process_status_id: str, channel: str) -> tuple[Any, Any]:
    return (
        process_watches.c.process_status_id == process_status_id,
        process_watches.c.channel == channel,
    )


def _watch(row: Row[Any]) -> Watch:
    return Watch(
        process_status_id=row.process_status_id,
        channel=row.channel,
        slack_user_id=row.slack_user_id,
        created_at=row.created_at,
        last_state=row.last_state,
        message_ts=row.message_ts,
        finished_at=row.finished_at,
    )
