"""Process batch rows: a batch (one Slack card) and its processes, handed in by other systems.

Exactly once, by the database: a repeated request (same ids, same channel) finds its batch by the
unique ``request_key``; a process is actively watched once per channel (a partial unique index);
finishing a process, posting the card, a thread reply or the summary are each a compare-and-set
that one poller (replica) wins. ``changes`` counts what happened to a batch and ``shown_changes``
what its card shows, so a card is redrawn once per round however many processes finished.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.messaging import Announced
from bot.storage.cards import STALE_POSTING_AFTER
from bot.storage.post_attempts import attempt_exists
from bot.storage.records import (
    Batch,
    BatchCreated,
    BatchView,
    FinishedMember,
    MemberOutcome,
    MemberState,
    Notify,
)
from bot.storage.rows import CLAIM_ATTEMPTS, IN_LIST_CHUNK, Rows, fitted
from bot.storage.schema import batch_processes, process_batches
from bot.storage.watches import FINISH_MEMBER

POSTING = "posting"
POSTED = "posted"
DUE = "due"

_b = process_batches.c
_m = batch_processes.c


class BatchRows(Rows):
    # -- creating ----------------------------------------------------------------------------------
    async def create_batch(
        self,
        ids: Sequence[str],
        channel: str,
        *,
        label: str | None,
        notify: Notify,
        requested_by: str,
    ) -> BatchCreated:
        """Watches ``ids`` in ``channel`` as one batch.

        A repeated request (the same ids for the same channel) returns the batch it created. Ids already
        actively watched in ``channel`` by another batch are left out; when none is new, nothing is
        created and the batch of the first id is returned.
        """
        unique = list(dict.fromkeys(ids))
        if not unique:
            raise ValueError("a batch needs at least one process id")
        key = request_key(channel, unique)
        now = self._clock()

        def create(conn: Connection) -> BatchCreated:
            return _create(
                conn, unique, channel, key, label=label, notify=notify, requested_by=requested_by, now=now
            )

        for _ in range(CLAIM_ATTEMPTS):
            try:
                if self._transactions.one_round_trip:
                    return await self._create_alone(
                        unique, channel, key, label=label, notify=notify, requested_by=requested_by, now=now
                    )
                # One hand-over to SQLite's thread for the whole transaction (see Transactions).
                return await self._transactions.write(create)
            except (IntegrityError, _Raced):
                continue  # a concurrent request took the key or some ids first: look again
        raise RuntimeError("could not create the batch: concurrent requests kept conflicting")

    async def _create_alone(
        self,
        unique: list[str],
        channel: str,
        key: str,
        *,
        label: str | None,
        notify: Notify,
        requested_by: str,
        now: datetime,
    ) -> BatchCreated:
        """``_create`` as one PostgreSQL statement (one round trip): see ``_CREATE_PG``."""
        batch_id = uuid.uuid4().hex
        parameters = {
            "c_batch_id": batch_id,
            "c_key": key,
            "c_channel": channel,
            "c_label": label,
            "c_notify": notify.value,
            "c_requested_by": requested_by,
            "c_now": now,
            "c_ids": unique,
            "c_first": unique[0],
        }
        (row,) = await self._transactions.alone(_CREATE_PG, parameters)
        if row.existing is not None:
            return BatchCreated(str(row.existing), 0, created=False)
        if row.added:
            return BatchCreated(batch_id, int(row.added), created=True)
        if row.in_the_way is None:
            raise _Raced  # that watch ended, or its batch committed after this began: nothing written
        return BatchCreated(str(row.in_the_way), 0, created=False)

    async def remove_batch_process(self, process_status_id: str, *, requested_by: str | None = None) -> int:
        """Stops watching an unfinished process in every batch (only in the batches ``requested_by`` asked
        for, when given); returns how many watches ended. Single watches are never touched here."""
        unfinished = [
            _m.process_status_id == process_status_id,
            _m.finished_at.is_(None),
            _m.batch_id.in_(_owned_batches(requested_by)),
        ]
        async with self._writer.begin() as conn:
            batch_ids = list((await conn.execute(select(_m.batch_id).where(*unfinished))).scalars())
            if not batch_ids:
                return 0
            await conn.execute(delete(batch_processes).where(*unfinished))
            await conn.execute(
                update(process_batches).where(_b.batch_id.in_(batch_ids)).values(changes=_b.changes + 1)
            )
        return len(batch_ids)

    # -- polling -----------------------------------------------------------------------------------
    async def finish_batch_members(self, finished: Mapping[str, Sequence[MemberOutcome]]) -> list[str]:
        """Moves the unfinished processes of ``finished`` (batch id -> its processes that ended) to
        their final state, every batch in one transaction; returns the ids this call moved (another
        poller may have moved some first). Those that want a thread reply become due."""
        if not any(finished.values()):
            return []
        async with self._writer.begin() as conn:
            notify = dict(
                (await conn.execute(select(_b.batch_id, _b.notify).where(_b.batch_id.in_(finished)))).all()
            )
            now = self._clock()
            moved: list[str] = []
            finishes: list[dict[str, Any]] = []
            changes: list[dict[str, Any]] = []
            for batch_id, outcomes in finished.items():
                by_id = {o.process_status_id: o for o in outcomes}
                ours: list[str] = []
                for chunk in _chunks(list(by_id)):
                    rows = await conn.execute(
                        select(_m.process_status_id)
                        .where(
                            _m.batch_id == batch_id, _m.process_status_id.in_(chunk), _m.finished_at.is_(None)
                        )
                        .with_for_update()
                    )
                    ours.extend(str(r[0]) for r in rows)
                if ours:
                    finishes += [_finish_params(batch_id, by_id[i], now, notify.get(batch_id)) for i in ours]
                    changes.append({"b_batch_id": batch_id, "b_changes": len(ours)})
                    moved += ours
            if finishes:
                await conn.execute(FINISH_MEMBER, finishes)
                await conn.execute(_COUNT_CHANGES, changes)
        return moved

    async def mark_stuck(self, started_before: datetime) -> int:
        """Marks unfinished processes of batches started before ``started_before`` as stuck (once each);
        returns how many were newly marked."""
        old = select(_b.batch_id).where(_b.created_at < started_before).scalar_subquery()
        where = (_m.finished_at.is_(None), _m.stuck.is_(False), _m.batch_id.in_(old))
        async with self._writer.begin() as conn:
            batch_ids = list((await conn.execute(select(_m.batch_id).where(*where).distinct())).scalars())
            if not batch_ids:
                return 0
            result = await conn.execute(update(batch_processes).where(*where).values(stuck=True))
            await conn.execute(
                update(process_batches).where(_b.batch_id.in_(batch_ids)).values(changes=_b.changes + 1)
            )
        return int(result.rowcount)

    async def complete_finished_batches(self) -> list[str]:
        """Marks batches whose processes have all finished as complete; returns those this call completed."""
        unfinished = exists().where(_m.batch_id == _b.batch_id, _m.finished_at.is_(None))
        # Single watches are completed with their process (``finish_watch``): left out on the index
        # that leads with ``single_watch``, so a round does not read every watch.
        done = and_(_batches_only(), _b.completed_at.is_(None), ~unfinished)
        async with self._engine.connect() as conn:
            candidates = list((await conn.execute(select(_b.batch_id).where(done))).scalars())
        completed = []
        for batch_id in candidates:
            async with self._writer.begin() as conn:
                result = await conn.execute(
                    update(process_batches)
                    .where(_b.batch_id == batch_id, done)
                    .values(completed_at=self._clock(), changes=_b.changes + 1)
                )
            if result.rowcount:
                completed.append(str(batch_id))
        return completed

    # -- the card ----------------------------------------------------------------------------------
    async def batches_without_card(self) -> list[str]:
        """Batches whose card is neither posted nor being posted (stale claims aside), oldest first;
        single watches have no card."""
        query = (
            select(_b.batch_id)
            .where(_batches_only(), _b.card_ts.is_(None), self._card_claim_free())
            .order_by(_b.created_at, _b.batch_id)
        )
        async with self._engine.connect() as conn:
            return [str(i) for i in (await conn.execute(query)).scalars()]

    async def claim_batch_card(self, batch_id: str) -> bool:
        """The right to post the batch's card; False if it is posted or another poller is posting it."""
        return await self._set(
            [_b.batch_id == batch_id, _b.card_ts.is_(None), self._card_claim_free()],
            card_claimed_at=self._clock(),
        )

    async def record_batch_card(self, batch_id: str, channel: str, ts: str, shown_changes: int) -> None:
        """Records where the card went: ``channel`` differs from the batch's when the bot could not post
        there; its updates and thread replies go there too."""
        await self._set([_b.batch_id == batch_id], channel=channel, card_ts=ts, shown_changes=shown_changes)

    async def release_batch_card(self, batch_id: str) -> None:
        """The card could not be posted: the next round tries again."""
        await self._set([_b.batch_id == batch_id, _b.card_ts.is_(None)], card_claimed_at=None)

    async def batches_to_redraw(self) -> list[str]:
        """Posted cards that show less than what has happened to their batch."""
        query = select(_b.batch_id).where(
            _batches_only(), _b.card_ts.is_not(None), _b.changes > _b.shown_changes
        )
        async with self._engine.connect() as conn:
            return [str(i) for i in (await conn.execute(query)).scalars()]

    async def mark_batch_shown(self, batch_id: str, changes: int) -> None:
        await self._set([_b.batch_id == batch_id, _b.shown_changes < changes], shown_changes=changes)

    # -- thread replies and the summary ------------------------------------------------------------
    async def batches_owing_replies(self) -> list[str]:
        """Batches with a posted card and processes still owed a thread reply."""
        owing = exists().where(_m.batch_id == _b.batch_id, _m.reply_state.in_([DUE, POSTING]))
        query = (
            select(_b.batch_id).where(_batches_only(), _b.card_ts.is_not(None), owing).order_by(_b.created_at)
        )
        async with self._engine.connect() as conn:
            return [str(i) for i in (await conn.execute(query)).scalars()]

    async def due_replies(self, batch_id: str, limit: int) -> list[FinishedMember]:
        """Finished processes of the batch still owed a reply in the card's thread, in finishing order."""
        query = (
            select(batch_processes)
            .where(_m.batch_id == batch_id, self._reply_free())
            .order_by(_m.finished_at, _m.process_status_id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [_finished(r) for r in (await conn.execute(query)).all()]

    async def claim_reply(self, batch_id: str, process_status_id: str) -> bool:
        """The right to post the process's reply; False if it is posted or another poller is posting it."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(batch_processes)
                .where(_m.batch_id == batch_id, _m.process_status_id == process_status_id, self._reply_free())
                .values(reply_state=POSTING, reply_claimed_at=self._clock())
            )
        return bool(result.rowcount)

    async def record_reply(self, batch_id: str, process_status_id: str, ts: str) -> None:
        await self._set_member(batch_id, process_status_id, reply_state=POSTED, reply_ts=ts)

    async def release_reply(self, batch_id: str, process_status_id: str) -> None:
        await self._set_member(batch_id, process_status_id, reply_state=DUE, reply_claimed_at=None)

    async def batches_owing_summary(self) -> list[str]:
        """Complete batches with a posted card and failures whose summary reply is not yet posted."""
        failed = exists().where(
            _m.batch_id == _b.batch_id,
            _m.state.in_([MemberState.FAILURE.value, MemberState.TIMEOUT.value]),
        )
        query = select(_b.batch_id).where(
            _batches_only(),
            _b.completed_at.is_not(None),
            _b.card_ts.is_not(None),
            failed,
            self._summary_free(),
        )
        async with self._engine.connect() as conn:
            return [str(i) for i in (await conn.execute(query)).scalars()]

    async def claim_batch_summary(self, batch_id: str) -> bool:
        return await self._set(
            [_b.batch_id == batch_id, _b.completed_at.is_not(None), self._summary_free()],
            summary_state=POSTING,
            summary_claimed_at=self._clock(),
        )

    async def record_batch_summary(self, batch_id: str) -> None:
        await self._set([_b.batch_id == batch_id], summary_state=POSTED)

    async def release_batch_summary(self, batch_id: str) -> None:
        await self._set([_b.batch_id == batch_id, _b.summary_state == POSTING], summary_state=None)

    # -- reading -----------------------------------------------------------------------------------
    async def batch_view(self, batch_id: str, *, failures: int = 5) -> BatchView | None:
        """The batch with its counts and its first ``failures`` failures; ``None`` when there is none."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(process_batches).where(_b.batch_id == batch_id))).first()
            if row is None:
                return None
            return await _view(conn, _batch(row), failures)

    async def recent_batches(self, limit: int = 10) -> list[BatchView]:
        """The newest batches first, with their counts."""
        query = select(process_batches).order_by(_b.created_at.desc(), _b.batch_id).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            return [await _view(conn, _batch(row), 0) for row in rows]

    # -- helpers -----------------------------------------------------------------------------------
    def _claim_free(self, claimed_at: Any) -> ColumnElement[bool]:
        """No claim, or one left behind by a poller that died (older than ``STALE_POSTING_AFTER``)."""
        return or_(claimed_at.is_(None), claimed_at < self._clock() - STALE_POSTING_AFTER)

    def _reply_free(self) -> ColumnElement[bool]:
        """The reply is due and not being posted: unclaimed, or a stale claim that never started a post
        (a claim with a post attempt is settled by reconciling it)."""
        return or_(
            _m.reply_state == DUE,
            and_(
                _m.reply_state == POSTING,
                self._claim_free(_m.reply_claimed_at),
                ~attempt_exists(Announced.BATCH_REPLY.value, _m.batch_id + "/" + _m.process_status_id),
            ),
        )

    def _summary_free(self) -> ColumnElement[bool]:
        """The summary is not posted nor being posted (as ``_reply_free``)."""
        return or_(
            _b.summary_state.is_(None),
            and_(
                _b.summary_state == POSTING,
                self._claim_free(_b.summary_claimed_at),
                ~attempt_exists(Announced.BATCH_SUMMARY.value, _b.batch_id),
            ),
        )

    def _card_claim_free(self) -> ColumnElement[bool]:
        """The card is not being posted: no claim, or a stale one that never started a post (a claim with
        a post attempt is settled by reconciling it, see ``post_attempts``)."""
        return and_(
            self._claim_free(_b.card_claimed_at),
            ~attempt_exists(Announced.BATCH_CARD.value, _b.batch_id),
        )

    async def _set(self, where: list[ColumnElement[bool]], **values: Any) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(update(process_batches).where(*where).values(**values))
        return bool(result.rowcount)

    async def _set_member(self, batch_id: str, process_status_id: str, **values: Any) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(batch_processes)
                .where(_m.batch_id == batch_id, _m.process_status_id == process_status_id)
                .values(**values)
            )


def _batches_only() -> ColumnElement[bool]:
    """Not a single watch (they have no card): ``= false``, which an index can serve on PostgreSQL
    too (``IS false`` is not indexable there)."""
    return _b.single_watch == false()


def _owned_batches(requested_by: str | None) -> Any:
    """The batches (never single watches) of ``requested_by``, or of anyone when ``None``."""
    query = select(_b.batch_id).where(_b.single_watch.is_(False))
    return query if requested_by is None else query.where(_b.requested_by == requested_by)


def request_key(channel: str, ids: Sequence[str]) -> str:
    """Identifies a request by what it asks for: the channel and the set of ids (order and repeats aside)."""
    text = "\n".join([channel, *sorted(set(ids))])
    return hashlib.sha256(text.encode()).hexdigest()


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + IN_LIST_CHUNK] for i in range(0, len(ids), IN_LIST_CHUNK)]


def _add_members(conn: Connection, batch_id: str, channel: str, ids: list[str]) -> int:
    """Adds ``ids`` to the batch, but those already actively watched in ``channel``: the partial unique
    index decides (``ON CONFLICT DO NOTHING``), so there is no look-up with one parameter per id (on
    PostgreSQL a prepared ``IN`` of 500 parameters got a generic plan that read every active row).
    On SQLite SQLAlchemy sends the rows as multi-row ``VALUES`` pages; on PostgreSQL the ids go as one
    array. How many went in."""
    if conn.dialect.name == "postgresql":
        parameters = {"m_batch_id": batch_id, "m_channel": channel, "m_ids": ids}
        return len(conn.execute(_ADD_MEMBERS_PG, parameters).all())
    rows = [
        {
            "batch_id": batch_id,
            "process_status_id": i,
            "channel": channel,
            "state": MemberState.PENDING.value,
            "stuck": False,
        }
        for i in ids
    ]
    statement = sqlite.insert(batch_processes).on_conflict_do_nothing().returning(_m.process_status_id)
    return len(conn.execute(statement, rows).all())


def _add_members_pg() -> Any:
    """``_add_members`` on PostgreSQL: the ids as one array parameter, unnested by the server. A
    multi-row ``VALUES`` of 5,000 parameters was a new, long query text each time, which psycopg
    parsed in Python (about 45 ms a request) before it went out. Built once."""
    ids = func.unnest(bindparam("m_ids", type_=postgresql.ARRAY(_m.process_status_id.type))).column_valued(
        "process_status_id"
    )
    rows = select(
        bindparam("m_batch_id", type_=_m.batch_id.type),
        ids,
        bindparam("m_channel", type_=_m.channel.type),
        literal(MemberState.PENDING.value, type_=_m.state.type),
        false(),
    )
    return (
        postgresql.insert(batch_processes)
        .from_select(["batch_id", "process_status_id", "channel", "state", "stuck"], rows)
        .on_conflict_do_nothing()
        .returning(_m.process_status_id)
    )


_ADD_MEMBERS_PG = _add_members_pg()


def _create(
    conn: Connection,
    unique: list[str],
    channel: str,
    key: str,
    *,
    label: str | None,
    notify: Notify,
    requested_by: str,
    now: datetime,
) -> BatchCreated:
    existing = conn.execute(select(_b.batch_id).where(_b.request_key == key)).scalar()
    if existing is not None:
        return BatchCreated(str(existing), 0, created=False)
    batch_id = uuid.uuid4().hex
    conn.execute(
        insert(process_batches).values(
            batch_id=batch_id,
            request_key=key,
            channel=channel,
            label=label,
            notify=notify.value,
            requested_by=requested_by,
            created_at=now,
            changes=0,
            shown_changes=0,
        )
    )
    added = _add_members(conn, batch_id, channel, unique)
    if not added:
        conn.execute(delete(process_batches).where(_b.batch_id == batch_id))
        in_the_way = _active_batch_of(conn, channel, unique[0])
        if in_the_way is None:
            raise _Raced  # that watch ended meanwhile: this transaction is rolled back, tried again
        return BatchCreated(in_the_way, 0, created=False)
    return BatchCreated(batch_id, added, created=True)


def _create_pg() -> Any:
    """``_create`` folded into one statement for PostgreSQL, whose parts all see one snapshot:

    * ``existing``: the batch of a repeated request (same key), if any; then nothing is written;
    * ``members``: else the ids not actively watched in the channel go in (``ON CONFLICT DO NOTHING``,
      the ids as one array); there is no foreign key to the batch, and the statement is atomic;
    * ``new_batch``: the batch row, only when some member went in (a concurrent request with the same
      key makes the statement fail on the unique key: nothing is written, and the caller looks again);
    * ``in_the_way``: when none went in, the batch actively watching the first id.
    """
    key = bindparam("c_key", type_=_b.request_key.type)
    batch_id = bindparam("c_batch_id", type_=_b.batch_id.type)
    channel = bindparam("c_channel", type_=_b.channel.type)
    existing = select(_b.batch_id).where(_b.request_key == key).cte("existing")
    ids = func.unnest(bindparam("c_ids", type_=postgresql.ARRAY(_m.process_status_id.type))).column_valued(
        "process_status_id"
    )
    members = (
        postgresql.insert(batch_processes)
        .from_select(
            ["batch_id", "process_status_id", "channel", "state", "stuck"],
            select(
                batch_id, ids, channel, literal(MemberState.PENDING.value, type_=_m.state.type), false()
            ).where(~exists(select(existing.c.batch_id))),
        )
        .on_conflict_do_nothing()
        .returning(_m.process_status_id)
        .cte("members")
    )
    added = select(func.count().label("n")).select_from(members).cte("added")
    new_batch = (
        postgresql.insert(process_batches)
        .from_select(
            [
                "batch_id",
                "request_key",
                "channel",
                "label",
                "notify",
                "requested_by",
                "created_at",
                "changes",
                "shown_changes",
            ],
            select(
                batch_id,
                key,
                channel,
                bindparam("c_label", type_=_b.label.type),
                bindparam("c_notify", type_=_b.notify.type),
                bindparam("c_requested_by", type_=_b.requested_by.type),
                bindparam("c_now", type_=_b.created_at.type),
                literal(0, type_=Integer),
                literal(0, type_=Integer),
            )
            .select_from(added)
            .where(added.c.n > 0),
        )
        .returning(_b.batch_id)
        .cte("new_batch")
    )
    in_the_way = (
        select(_m.batch_id)
        .where(
            _m.channel == channel,
            _m.process_status_id == bindparam("c_first", type_=_m.process_status_id.type),
            _m.finished_at.is_(None),
        )
        .limit(1)
    )
    return select(
        select(existing.c.batch_id).scalar_subquery().label("existing"),
        select(added.c.n).scalar_subquery().label("added"),
        select(new_batch.c.batch_id).scalar_subquery().label("created"),
        in_the_way.scalar_subquery().label("in_the_way"),
    )


_CREATE_PG = _create_pg()


class _Raced(Exception):
    """What the database showed a moment ago changed before the next statement."""


def _active_batch_of(conn: Connection, channel: str, process_status_id: str) -> str | None:
    """The batch actively watching this process in ``channel``; ``None`` when none is."""
    batch_id = conn.execute(
        select(_m.batch_id).where(
            _m.channel == channel, _m.process_status_id == process_status_id, _m.finished_at.is_(None)
        )
    ).scalar()
    return None if batch_id is None else str(batch_id)


_COUNT_CHANGES = (
    update(process_batches)
    .where(_b.batch_id == bindparam("b_batch_id"))
    .values(changes=_b.changes + bindparam("b_changes"))
)


def _finish_params(
    batch_id: str, outcome: MemberOutcome, now: datetime, notify: str | None
) -> dict[str, Any]:
    wants_reply = outcome.state.failed or notify == Notify.ALL.value
    return {
        "b_batch_id": batch_id,
        "b_process_status_id": outcome.process_status_id,
        "b_state": outcome.state.value,
        "b_entity_id": fitted(outcome.entity_id, _m.entity_id),
        "b_event_type": fitted(outcome.event_type, _m.event_type),
        "b_error_message": outcome.error_message,
        "b_finished_at": now,
        "b_reply_state": DUE if wants_reply else None,
    }


async def _view(conn: AsyncConnection, batch: Batch, failures: int) -> BatchView:
    counted = await conn.execute(
        select(_m.state, func.count(), func.sum(_stuck_as_int()))
        .where(_m.batch_id == batch.batch_id)
        .group_by(_m.state)
    )
    counts = {state: 0 for state in MemberState}
    stuck = 0
    for state, count, stuck_count in counted:
        counts[MemberState(state)] = int(count)
        stuck += int(stuck_count or 0)
    first: list[FinishedMember] = []
    if failures:
        rows = await conn.execute(
            select(batch_processes)
            .where(
                _m.batch_id == batch.batch_id,
                _m.state.in_([MemberState.FAILURE.value, MemberState.TIMEOUT.value]),
            )
            .order_by(_m.finished_at, _m.process_status_id)
            .limit(failures)
        )
        first = [_finished(r) for r in rows]
    return BatchView(batch=batch, counts=counts, stuck=stuck, failures=first)


def _stuck_as_int() -> Any:
    return case((and_(_m.stuck.is_(True), _m.finished_at.is_(None)), 1), else_=0).cast(Integer)


def _batch(row: Row[Any]) -> Batch:
    return Batch(
        batch_id=row.batch_id,
        channel=row.channel,
        label=row.label,
        notify=Notify(row.notify),
        requested_by=row.requested_by,
        created_at=row.created_at,
        card_ts=row.card_ts,
        changes=row.changes,
        shown_changes=row.shown_changes,
        completed_at=row.completed_at,
        single_watch=bool(row.single_watch),
    )


def _finished(row: Row[Any]) -> FinishedMember:
    return FinishedMember(
        process_status_id=row.process_status_id,
        state=MemberState(row.state),
        entity_id=row.entity_id,
        event_type=row.event_type,
        error_message=row.error_message,
        finished_at=row.finished_at,
    )


def batch_reply_subject(batch_id: str, process_status_id: str) -> str:
    """The post attempt's id of a process's reply in its batch card's thread."""
    return f"{batch_id}/{process_status_id}"


def batch_reply_of(subject_id: str) -> tuple[str, str]:
    """``(batch id, process id)`` back from ``batch_reply_subject`` (batch ids have no ``/``)."""
    batch_id, _, process_status_id = subject_id.partition("/")
    return batch_id, process_status_id
