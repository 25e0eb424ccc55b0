"""Single watches (``/process-status watch``): each is a batch of one, marked ``single_watch``.

A single watch lives in the batch tables, so it is listed with the batches and readable over the API,
and the process is actively watched once per channel whoever asked (the partial unique index of
``batch_processes``). It keeps its own announcement: one message in the channel when the process
finishes, no card. Finishing the watch is the right to announce it, so of several pollers (replicas)
one posts; a failed announcement reopens the watch for the next round.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    bindparam,
    delete,
    exists,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.storage.post_attempts import PostAttemptRows
from bot.storage.records import ActiveProcess, MemberState, Watch, WatchEnding
from bot.storage.rows import CLAIM_ATTEMPTS, fitted
from bot.storage.schema import batch_processes, process_batches

_b = process_batches.c
_m = batch_processes.c


class WatchRows(PostAttemptRows):
    async def add_watch(self, process_status_id: str, channel: str, slack_user_id: str) -> bool:
        """Starts watching as a new batch of one; False if the process is already actively watched in
        ``channel`` (by a single watch or a batch)."""
        for _ in range(CLAIM_ATTEMPTS):
            try:
                async with self._writer.begin() as conn:
                    active = select(_m.batch_id).where(*_active_key(process_status_id, channel))
                    if (await conn.execute(active)).first() is not None:
                        return False
                    batch_id = uuid.uuid4().hex
                    row = single_watch_batch(batch_id, process_status_id, channel, slack_user_id)
                    await conn.execute(
                        insert(process_batches).values(
                            **row, created_at=self._clock(), changes=0, shown_changes=0
                        )
                    )
                    await conn.execute(
                        insert(batch_processes).values(
                            batch_id=batch_id,
                            process_status_id=process_status_id,
                            channel=channel,
                            state=MemberState.PENDING.value,
                            stuck=False,
                        )
                    )
                return True
            except IntegrityError:
                continue  # a concurrent request armed it first: look again
        return False

    async def remove_watch(self, process_status_id: str, channel: str) -> bool:
        """Stops an active single watch (its batch of one goes too); False if there was none. Finished
        watches are kept as history."""
        async with self._writer.begin() as conn:
            found = select(_m.batch_id).where(*_active_key(process_status_id, channel), _single())
            batch_id = (await conn.execute(found)).scalar()
            if batch_id is None:
                return False
            await conn.execute(delete(batch_processes).where(_m.batch_id == batch_id))
            await conn.execute(delete(process_batches).where(_b.batch_id == batch_id))
        return True

    async def active_processes(
        self, *, after: tuple[str, str] | None, limit: int, batches: bool = True
    ) -> list[ActiveProcess]:
        """A page of unfinished processes: single watches and (with ``batches``) every batch's, by
        (process id, batch id) after the key ``after``, at most ``limit``. Pages are read one short
        query each (keyset, on the index of active processes, read in order), so a poll never holds
        them all."""
        query = (
            select(
                _m.batch_id,
                _m.process_status_id,
                _m.channel,
                _b.single_watch,
                _m.stuck,
                _b.requested_by,
                _b.created_at,
                _m.reply_ts,
            )
            .join(process_batches, _b.batch_id == _m.batch_id)
            .where(_m.finished_at.is_(None))
            # finished_at first although it is NULL throughout: so the order is the index's own
            # (ix_batch_processes_unfinished_by_id), which PostgreSQL then reads in order instead of
            # sorting every page; SQLite reads it so either way.
            .order_by(_m.finished_at, _m.process_status_id, _m.batch_id)
            .limit(limit)
        )
        if not batches:
            query = query.where(_b.single_watch.is_(True))
        if after is not None:
            process_status_id, batch_id = after
            # A row value: one range on the index, on SQLite and PostgreSQL alike.
            query = query.where(
                tuple_(_m.process_status_id, _m.batch_id)
                > tuple_(literal(process_status_id), literal(batch_id))
            )
        rows = await self._transactions.select(query)  # PostgreSQL: one round trip
        return [
            ActiveProcess(batch, process, channel, single, stuck, by, created, reply)
            for batch, process, channel, single, stuck, by, created, reply in map(tuple, rows)
        ]

    async def prune_finished_watches(self, older_than: datetime) -> int:
        """Deletes single watches that finished before ``older_than``; how many went."""
        old = select(_b.batch_id).where(
            _b.single_watch.is_(True), _b.completed_at.is_not(None), _b.completed_at < older_than
        )
        async with self._writer.begin() as conn:
            batch_ids = list((await conn.execute(old)).scalars())
            if not batch_ids:
                return 0
            await conn.execute(delete(batch_processes).where(_m.batch_id.in_(batch_ids)))
            await conn.execute(delete(process_batches).where(_b.batch_id.in_(batch_ids)))
        return len(batch_ids)

    async def finish_watches(self, endings: Sequence[WatchEnding], *, announcement: str) -> set[str]:
        """Marks the single watches of ``endings`` that are still active finished (each in its state),
        their batches of one complete, and starts the post attempt of each one's announcement (of kind
        ``announcement``) in its channel: one transaction. Returns the batch ids finished here.

        Only the caller that finished a watch may announce it (another poller may have finished some
        first: PostgreSQL locks the rows it reads, SQLite has one writer). A watch is never finished
        without its attempt: a process that dies before posting leaves the attempt to the reconciler,
        or (dying before the commit) the watch active.
        """
        if not endings:
            return set()
        now = self._clock()
        # By batch id alone (the primary key's start), whether finished or not: with ``finished_at IS
        # NULL`` in the query SQLite searched the index of every active process instead.
        rows = (
            select(_m.batch_id, _m.finished_at)
            .where(_m.batch_id.in_([ending.batch_id for ending in endings]))
            .with_for_update()
        )

        def finish(conn: Connection) -> set[str]:
            finished = {batch_id for batch_id, finished_at in conn.execute(rows) if finished_at is None}
            mine = [ending for ending in endings if ending.batch_id in finished]
            if not mine:
                return set()
            conn.execute(FINISH_MEMBER, [_finished_member(ending, now) for ending in mine])
            conn.execute(
                update(process_batches)
                .where(_b.batch_id.in_(finished))
                .values(completed_at=now, changes=_b.changes + 1)
            )
            self._start_attempts(conn, announcement, [(ending.batch_id, ending.channel) for ending in mine])
            return finished

        return await self._transactions.write(finish)

    async def reopen_watch_batch(self, batch_id: str) -> None:
        """Makes the finished, unannounced single watch of ``batch_id`` active again (the announcement was
        definitely not posted): the next round finishes and announces it afresh."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(batch_processes)
                .where(_m.batch_id == batch_id, _m.finished_at.is_not(None), _m.reply_ts.is_(None))
                .values(state=MemberState.PENDING.value, finished_at=None)
            )
            if result.rowcount:
                await conn.execute(
                    update(process_batches)
                    .where(_b.batch_id == batch_id, _b.single_watch.is_(True))
                    .values(completed_at=None, changes=_b.changes + 1)
                )

    async def record_watch_messages(self, posted: Sequence[tuple[str, str]], *, announcement: str) -> None:
        """Records where the announcements of single watches were posted (batch id, message ``ts``), and
        ends their post attempts (of kind ``announcement``): one transaction."""
        if not posted:
            return

        def record(conn: Connection) -> None:
            conn.execute(_WATCH_POSTED, [{"b_batch_id": b, "b_reply_ts": ts} for b, ts in posted])
            self._end_attempts(conn, announcement, [batch_id for batch_id, _ in posted])

        await self._transactions.write(record)


FINISH_MEMBER = (
    update(batch_processes)
    .where(
        _m.batch_id == bindparam("b_batch_id"),
        _m.process_status_id == bindparam("b_process_status_id"),
        _m.finished_at.is_(None),
    )
    .values(
        state=bindparam("b_state"),
        entity_id=bindparam("b_entity_id"),
        event_type=bindparam("b_event_type"),
        error_message=bindparam("b_error_message"),
        finished_at=bindparam("b_finished_at"),
        reply_state=bindparam("b_reply_state"),
    )
)
"""Finishes one unfinished process row, a single watch's or a batch's; built once (bound parameters)
and run with many rows at once (executemany). By the whole primary key: with only ``batch_id``,
SQLite searched the index on finished_at (every active process) instead, so each finish cost more
the more were watched."""
_WATCH_POSTED = (
    update(batch_processes)
    .where(_m.batch_id == bindparam("b_batch_id"))
    .values(reply_ts=bindparam("b_reply_ts"))
)


def _finished_member(ending: WatchEnding, now: datetime) -> dict[str, Any]:
    return {
        "b_batch_id": ending.batch_id,
        "b_process_status_id": ending.process_status_id,
        "b_state": ending.state,
        "b_entity_id": fitted(ending.entity_id, _m.entity_id),
        "b_event_type": fitted(ending.event_type, _m.event_type),
        "b_error_message": ending.error_message,
        "b_finished_at": now,
        "b_reply_state": None,  # a single watch's end is its own message, never a reply
    }


def _key(process_status_id: str, channel: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return _m.process_status_id == process_status_id, _m.channel == channel


def _active_key(process_status_id: str, channel: str) -> tuple[ColumnElement[bool], ...]:
    return (*_key(process_status_id, channel), _m.finished_at.is_(None))


def _single() -> ColumnElement[bool]:
    """The member belongs to a single watch (a batch of one from ``/process-status watch``).

    A correlated ``EXISTS`` on the batch's primary key: ``IN (SELECT … single_watch)`` read every
    batch for each look-up, so a finished watch cost more the more processes were watched."""
    return exists().where(_b.batch_id == _m.batch_id, _b.single_watch.is_(True))


def watch_query(*, single: bool) -> Any:
    """Processes as ``Watch`` rows: only single watches, or (``single=False``) every batch's too."""
    query = select(
        _m.batch_id,
        _m.process_status_id,
        _m.channel,
        _m.state,
        _m.finished_at,
        _m.reply_ts,
        _b.requested_by,
        _b.created_at,
    ).join(process_batches, _b.batch_id == _m.batch_id)
    return query.where(_b.single_watch.is_(True)) if single else query


def watch_of(row: Row[Any]) -> Watch:
    finished = row.finished_at is not None
    return Watch(
        process_status_id=row.process_status_id,
        channel=row.channel,
        slack_user_id=row.requested_by,
        created_at=row.created_at,
        last_state=row.state if finished else None,
        message_ts=row.reply_ts,
        finished_at=row.finished_at,
        batch_id=row.batch_id,
    )


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
