"""Post attempt rows: an announcement on its way to Slack, so a lost answer never posts it twice.

The holder of an announcement's claim (a card row, a finished watch, a batch card, reply or summary
claim) starts an attempt just before ``chat.postMessage`` and ends it once the outcome is recorded.
Only a definite "not posted" releases the claim; a post with no answer leaves the attempt UNKNOWN and
the claim held. An attempt UNKNOWN, or POSTING by a process that is no longer alive (``DEAD_AFTER``,
or at once when its replica restarted), is taken (compare-and-set) by one reconciler, which looks the
message up in the channel's history (a thread reply in its thread, ``thread_ts``): found, it is
recorded; not found, the claim is released and posted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, exists, insert, or_, select, update

from bot.storage.instances import DEAD_AFTER, InstanceRows
from bot.storage.records import PostAttempt, PostState
from bot.storage.schema import bot_instances, post_attempts

_p = post_attempts.c

# Built once (bound parameters): before and after every post, their compiled form is reused.
_ATTEMPT = insert(post_attempts)
_ATTEMPTS_GONE = delete(post_attempts).where(
    _p.kind == bindparam("b_kind"), _p.subject_id.in_(bindparam("b_subject_ids", expanding=True))
)


class PostAttemptRows(InstanceRows):
    async def start_post(
        self, kind: str, subject_id: str, channel: str, *, thread_ts: str | None = None
    ) -> None:
        """This process is about to post the announcement in ``channel`` (in ``thread_ts``'s thread when
        given; the caller holds its claim); replaces an earlier attempt of the same announcement (a
        definite failure, a fallback channel)."""
        await self._transactions.write(  # before every post: one hand-over
            lambda conn: self._start_attempts(conn, kind, [(subject_id, channel)], thread_ts=thread_ts)
        )

    def _start_attempts(
        self,
        conn: Connection,
        kind: str,
        subjects: Sequence[tuple[str, str]],
        *,
        thread_ts: str | None = None,
    ) -> None:
        """:meth:`start_post` of each (subject id, channel) in ``subjects``, in the transaction of
        ``conn`` (the one that takes their claims): one delete and one insert of many rows."""
        self._end_attempts(conn, kind, [subject_id for subject_id, _ in subjects])
        started_at = self._clock()
        conn.execute(
            _ATTEMPT,
            [
                {
                    "kind": kind,
                    "subject_id": subject_id,
                    "channel": channel,
                    "thread_ts": thread_ts,
                    "owner": self._instance_id,
                    "state": PostState.POSTING.value,
                    "started_at": started_at,
                }
                for subject_id, channel in subjects
            ],
        )

    @staticmethod
    def _end_attempts(conn: Connection, kind: str, subject_ids: Sequence[str]) -> None:
        """:meth:`end_post` of each of ``subject_ids`` inside the transaction of ``conn`` (the one that
        records their outcomes), as one statement."""
        conn.execute(_ATTEMPTS_GONE, {"b_kind": kind, "b_subject_ids": list(subject_ids)})

    async def post_outcome_unknown(self, kind: str, subject_id: str) -> None:
        """The post got no answer: it may be in Slack. The claim stays; a reconciler looks it up."""
        async with self._writer.begin() as conn:
            await conn.execute(
                update(post_attempts)
                .where(_p.kind == kind, _p.subject_id == subject_id)
                .values(state=PostState.UNKNOWN.value)
            )

    async def end_post(self, kind: str, subject_id: str) -> None:
        """The outcome is recorded (posted, or definitely not): nothing is left to reconcile."""
        await self._transactions.write(lambda conn: self._end_attempts(conn, kind, [subject_id]))

    async def posts_to_reconcile(
        self, *, started_before: datetime, own_started_before: datetime, limit: int
    ) -> list[PostAttempt]:
        """Attempts nobody is working on, started before ``started_before``, oldest first: UNKNOWN,
        POSTING by a process that stopped beating (or an earlier boot of a replica), or POSTING by
        this process since before ``own_started_before`` (left so by a reconcile cut off or an outcome
        the store failed to record: no post of its own takes that long)."""
        alive = exists().where(
            bot_instances.c.instance_id == _p.owner,
            bot_instances.c.heartbeat_at > self._clock() - DEAD_AFTER,
        )
        query = (
            select(post_attempts)
            .where(
                _p.started_at < started_before,
                or_(
                    _p.state == PostState.UNKNOWN.value,
                    and_(_p.state == PostState.POSTING.value, _p.owner != self._instance_id, ~alive),
                    and_(
                        _p.state == PostState.POSTING.value,
                        _p.owner == self._instance_id,
                        _p.started_at < own_started_before,
                    ),
                ),
            )
            .order_by(_p.started_at, _p.kind, _p.subject_id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_attempt(row) for row in rows]

    async def take_post(self, attempt: PostAttempt) -> bool:
        """Compare-and-set: this process reconciles ``attempt`` if it is still as read (one taker)."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(post_attempts)
                .where(
                    _p.kind == attempt.kind,
                    _p.subject_id == attempt.subject_id,
                    _p.owner == attempt.owner,
                    _p.state == attempt.state.value,
                )
                .values(owner=self._instance_id, state=PostState.POSTING.value)
            )
        return bool(result.rowcount)


def attempt_exists(kind: str, subject_id: Any) -> Any:
    """SQL: an attempt of ``kind`` for ``subject_id`` (a column) exists; such a claim is not stale."""
    return exists().where(_p.kind == kind, _p.subject_id == subject_id)


def _attempt(row: Row[Any]) -> PostAttempt:
    return PostAttempt(
        kind=row.kind,
        subject_id=row.subject_id,
        channel=row.channel,
        owner=row.owner,
        state=PostState(row.state),
        started_at=row.started_at,
        thread_ts=row.thread_ts,
    )
