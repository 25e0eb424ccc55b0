"""Entity follow rows: which entities are followed, and each process of theirs the bot has seen.

A process row is inserted the first time a listing shows it; announcing it is a compare-and-set on
``announce_state`` (one poller wins, a failed post releases it; one with a post attempt is settled
by reconciling it, never by age). Processes already final when the follow starts are recorded as
``skipped``: a follow announces what finishes from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.messaging import Announced
from bot.storage.cards import STALE_POSTING_AFTER
from bot.storage.post_attempts import attempt_exists
from bot.storage.records import Follow
from bot.storage.rows import IN_LIST_CHUNK, Rows
from bot.storage.schema import entity_follow_processes, entity_follows

FINAL_STATES = ("SUCCESS", "FAILURE", "TIMEOUT")
SKIPPED = "skipped"
POSTING = "posting"
POSTED = "posted"

_f = entity_follows.c
_p = entity_follow_processes.c


class FollowRows(Rows):
    async def add_follow(self, entity_id: str, event_type: str, channel: str, requested_by: str) -> bool:
        """Starts following; False if already followed in ``channel``."""
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(entity_follows).values(
                        entity_id=entity_id,
                        event_type=event_type,
                        channel=channel,
                        requested_by=requested_by,
                        created_at=self._clock(),
                        baselined=False,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def remove_follow(
        self, entity_id: str, event_type: str, channel: str, *, requested_by: str | None = None
    ) -> bool:
        """Stops following (and forgets the processes seen); False if there was no such follow (of
        ``requested_by``, when given)."""
        key = [_f.entity_id == entity_id, _f.event_type == event_type, _f.channel == channel]
        if requested_by is not None:
            key.append(_f.requested_by == requested_by)
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(entity_follows).where(*key))
            if not result.rowcount:
                return False
            await conn.execute(
                delete(entity_follow_processes).where(
                    _p.entity_id == entity_id, _p.event_type == event_type, _p.channel == channel
                )
            )
        return bool(result.rowcount)

    async def follow_counts(self, requested_by: str) -> tuple[int, int]:
        """How many follows ``requested_by`` holds, and how many there are in all."""
        mine = func.count().filter(_f.requested_by == requested_by)
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(mine, func.count()).select_from(entity_follows))).one()
        return int(row[0]), int(row[1])

    async def follows(self) -> list[Follow]:
        query = select(entity_follows).order_by(_f.created_at, _f.entity_id, _f.event_type, _f.channel)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Follow(r.entity_id, r.event_type, r.channel, r.requested_by, r.created_at, bool(r.baselined))
            for r in rows
        ]

    async def note_follow_processes(self, follow: Follow, seen: Sequence[tuple[str, str]]) -> list[str]:
        """Records the (process id, state) pairs of a listing; returns the ids never seen before."""
        states = dict(seen)
        new: list[str] = []
        async with self._writer.begin() as conn:
            for start in range(0, len(states), IN_LIST_CHUNK):
                chunk = list(states)[start : start + IN_LIST_CHUNK]
                known = {
                    str(r.process_status_id): str(r.state)
                    for r in await conn.execute(
                        select(_p.process_status_id, _p.state).where(
                            *_key(follow), _p.process_status_id.in_(chunk)
                        )
                    )
                }
                for process_id in chunk:
                    state = states[process_id]
                    if process_id not in known:
                        new.append(process_id)
                        skipped = not follow.baselined and state in FINAL_STATES
                        await conn.execute(
                            insert(entity_follow_processes).values(
                                entity_id=follow.entity_id,
                                event_type=follow.event_type,
                                channel=follow.channel,
                                process_status_id=process_id,
                                state=state,
                                announce_state=SKIPPED if skipped else None,
                            )
                        )
                    elif known[process_id] != state:
                        await conn.execute(
                            update(entity_follow_processes)
                            .where(*_key(follow), _p.process_status_id == process_id)
                            .values(state=state)
                        )
        return new

    async def mark_follow_baselined(self, follow: Follow) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(entity_follows)
                .where(
                    _f.entity_id == follow.entity_id,
                    _f.event_type == follow.event_type,
                    _f.channel == follow.channel,
                )
                .values(baselined=True)
            )

    async def follow_announcements_due(self, follow: Follow) -> list[str]:
        """Final processes of the follow not yet announced."""
        query = (
            select(_p.process_status_id)
            .where(*_key(follow), _p.state.in_(FINAL_STATES), self._announce_free())
            .order_by(_p.process_status_id)
        )
        async with self._engine.connect() as conn:
            return [str(i) for i in (await conn.execute(query)).scalars()]

    async def claim_follow_announcement(self, follow: Follow, process_status_id: str) -> bool:
        return await self._set_process(
            follow,
            process_status_id,
            [self._announce_free()],
            announce_state=POSTING,
            announce_claimed_at=self._clock(),
        )

    async def record_followed_process_message(self, channel: str, process_status_id: str, ts: str) -> None:
        """Records the announcement of the process followed in ``channel`` (found after its answer was
        lost)."""
        await self._set_announced(channel, process_status_id, announce_state=POSTED, message_ts=ts)

    async def release_followed_process(self, channel: str, process_status_id: str) -> None:
        """The announcement of the process followed in ``channel`` was not posted: announce it again."""
        await self._set_announced(channel, process_status_id, announce_state=None)

    async def _set_announced(self, channel: str, process_status_id: str, **values: Any) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(entity_follow_processes)
                .where(
                    _p.channel == channel,
                    _p.process_status_id == process_status_id,
                    _p.announce_state == POSTING,
                )
                .values(**values)
            )

    def _announce_free(self) -> ColumnElement[bool]:
        stale = self._clock() - STALE_POSTING_AFTER
        subject = _p.channel + "/" + _p.process_status_id
        return or_(
            _p.announce_state.is_(None),
            and_(
                _p.announce_state == POSTING,
                _p.announce_claimed_at < stale,
                ~attempt_exists(Announced.FOLLOWED_PROCESS.value, subject),
            ),
        )

    async def _set_process(
        self, follow: Follow, process_status_id: str, where: list[ColumnElement[bool]], **values: Any
    ) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(entity_follow_processes)
                .where(*_key(follow), _p.process_status_id == process_status_id, *where)
                .values(**values)
            )
        return bool(result.rowcount)


def _key(follow: Follow) -> tuple[ColumnElement[bool], ...]:
    return (
        _p.entity_id == follow.entity_id,
        _p.event_type == follow.event_type,
        _p.channel == follow.channel,
    )


def followed_process_subject(channel: str, process_status_id: str) -> str:
    """The post attempt's id of a followed process's announcement in ``channel``."""
    return f"{channel}/{process_status_id}"


def followed_process_of(subject_id: str) -> tuple[str, str]:
    """``(channel, process id)`` back from ``followed_process_subject`` (channel ids have no ``/``)."""
    channel, _, process_status_id = subject_id.partition("/")
    return channel, process_status_id
