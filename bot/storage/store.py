"""The bot's persistent state behind one async API, for SQLite and PostgreSQL alike.

Every "exactly once" guarantee rests on a primary key: a second INSERT fails with IntegrityError in
whichever task or process comes second, never on a read-then-write check.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import (
    approval_cards,
    audit_log,
    create_engine,
    decision_claims,
    migrate,
    process_watches,
    safe_url,
    utcnow,
    writer,
)
from bot.storage.records import AuditEntry, CardRecord, CardState, DecisionClaim, DecisionState, Watch

log = logging.getLogger(__name__)

# A row that vanishes between a failed INSERT and the follow-up read (released by its owner) is retried.
_CLAIM_ATTEMPTS = 5
# Bound on the ids in one IN (...) list (SQLite caps bound parameters per statement).
_IN_LIST_CHUNK = 500


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    @classmethod
    async def open(cls, database_url: str) -> Store:
        """Creates the engine and migrates the schema (safe to call from several processes at once)."""
        engine = create_engine(database_url)
        try:
            version = await migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        log.info("database %s ready (schema version %d)", safe_url(database_url), version)
        return cls(engine)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    async def ping(self) -> bool:
        try:
            async with self._engine.connect() as conn:
                return (await conn.execute(text("SELECT 1"))).scalar() == 1
        except Exception as error:
            log.warning("database ping failed: %s: %s", type(error).__name__, error)
            return False

    # ------------------------------------------------------------------------------ approval cards

    async def claim_card(self, approval_id: str, kind: str) -> bool:
        """Claims the right to post this approval's card (state POSTING); False if any row exists."""
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(approval_cards).values(
                        approval_id=approval_id, kind=kind, state=CardState.POSTING.value, updated_at=utcnow()
                    )
                )
        except IntegrityError:
            return False
        return True

    async def card_posted(self, approval_id: str, channel: str, ts: str) -> bool:
        """Records where the card went. True if it is now PENDING; False if, while it was being posted,
        the approval was decided from Slack (its state is kept, only channel/ts are recorded)."""
        now = utcnow()
        where = {"channel": channel, "ts": ts, "posted_at": now, "updated_at": now}
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(approval_cards)
                .where(
                    approval_cards.c.approval_id == approval_id,
                    approval_cards.c.state == CardState.POSTING.value,
                )
                .values(state=CardState.PENDING.value, **where)
            )
            if result.rowcount == 1:
                return True
            result = await conn.execute(
                update(approval_cards).where(approval_cards.c.approval_id == approval_id).values(**where)
            )
            if result.rowcount == 1:
                return False
            # The claim was released meanwhile (e.g. treated as stale): record the card anyway so it is
            # tracked; kind is unknown here.
            log.warning("card for approval %s was posted but its claim was gone", approval_id)
            await conn.execute(
                insert(approval_cards).values(
                    approval_id=approval_id, kind="unknown", state=CardState.PENDING.value, **where
                )
            )
            return True

    async def release_card(self, approval_id: str) -> None:
        """Deletes a POSTING claim (the post failed) so a later poll posts the card again."""
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(approval_cards).where(
                    approval_cards.c.approval_id == approval_id,
                    approval_cards.c.state == CardState.POSTING.value,
                )
            )

    async def get_card(self, approval_id: str) -> CardRecord | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(approval_cards).where(approval_cards.c.approval_id == approval_id))
            ).first()
        return None if row is None else _card(row)

    async def known_card_ids(self, approval_ids: Collection[str]) -> set[str]:
        """Which of these approvals already have a card row (in any state): one query per 500 ids."""
        ids = list(dict.fromkeys(approval_ids))
        known: set[str] = set()
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), _IN_LIST_CHUNK):
                chunk = ids[start : start + _IN_LIST_CHUNK]
                result = await conn.execute(
                    select(approval_cards.c.approval_id).where(approval_cards.c.approval_id.in_(chunk))
                )
                known.update(str(row[0]) for row in result)
        return known

    async def open_cards(self) -> list[CardRecord]:
        """Posted cards whose approval is not decided yet (state PENDING), oldest first."""
        return await self._cards_in(CardState.PENDING)

    async def stale_posting_cards(self, older_than: datetime) -> list[CardRecord]:
        """POSTING claims older than ``older_than`` (aware): left behind by a crash between claim and post."""
        return await self._cards_in(CardState.POSTING, approval_cards.c.updated_at < older_than)

    async def _cards_in(self, state: CardState, *where: Any) -> list[CardRecord]:
        query = (
            select(approval_cards)
            .where(approval_cards.c.state == state.value, *where)
            .order_by(approval_cards.c.posted_at, approval_cards.c.updated_at, approval_cards.c.approval_id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_card(row) for row in rows]

    async def set_card_state(self, approval_id: str, state: CardState) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(approval_cards)
                .where(approval_cards.c.approval_id == approval_id)
                .values(state=state.value, updated_at=utcnow())
            )

    async def transition_card(self, approval_id: str, from_state: CardState, to_state: CardState) -> bool:
        """Compare-and-set: moves the card to ``to_state`` only if it is in ``from_state``."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(approval_cards)
                .where(
                    approval_cards.c.approval_id == approval_id, approval_cards.c.state == from_state.value
                )
                .values(state=to_state.value, updated_at=utcnow())
            )
        return result.rowcount == 1

    # ---------------------------------------------------------------------------------- decisions

    async def claim_decision(self, approval_id: str, slack_user_id: str, action: str) -> DecisionClaim | None:
        """Atomically claims the decision: None when this call got it, else the claim that already exists."""
        for _ in range(_CLAIM_ATTEMPTS):
            try:
                async with self._writer.begin() as conn:
                    await conn.execute(
                        insert(decision_claims).values(
                            approval_id=approval_id,
                            slack_user_id=slack_user_id,
                            action=action,
                            state=DecisionState.IN_PROGRESS.value,
                            claimed_at=utcnow(),
                        )
                    )
            except IntegrityError:
                existing = await self.get_decision(approval_id)
                if existing is not None:
                    return existing
                continue  # released between our INSERT and the read: try again
            return None
        raise RuntimeError(f"could not claim the decision on approval {approval_id}: claim kept flapping")

    async def get_decision(self, approval_id: str) -> DecisionClaim | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(decision_claims).where(decision_claims.c.approval_id == approval_id)
                )
            ).first()
        if row is None:
            return None
        return DecisionClaim(
            approval_id=row.approval_id,
            slack_user_id=row.slack_user_id,
            action=row.action,
            state=DecisionState(row.state),
            claimed_at=row.claimed_at,
        )

    async def finish_decision(self, approval_id: str) -> None:
        """Commerce accepted the decision: the claim becomes DONE and stays (later clicks see who decided)."""
        async with self._writer.begin() as conn:
            await conn.execute(
                update(decision_claims)
                .where(decision_claims.c.approval_id == approval_id)
                .values(state=DecisionState.DONE.value)
            )

    async def release_decision(self, approval_id: str, *, claimed_before: datetime | None = None) -> bool:
        """Drops an IN_PROGRESS claim (the Commerce call failed) so it can be retried. DONE claims stay.

        With ``claimed_before`` (aware) only a claim older than that goes: one abandoned by a process
        that died mid-decision. Returns whether a claim was dropped.
        """
        conditions = [
            decision_claims.c.approval_id == approval_id,
            decision_claims.c.state == DecisionState.IN_PROGRESS.value,
        ]
        if claimed_before is not None:
            conditions.append(decision_claims.c.claimed_at < claimed_before)
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(decision_claims).where(*conditions))
        return bool(result.rowcount)

    # -------------------------------------------------------------------------------------- audit

    async def record_audit(self, entry: AuditEntry) -> int:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                insert(audit_log).values(
                    at=entry.at or utcnow(),
                    slack_user_id=entry.slack_user_id,
                    action=entry.action,
                    approval_id=entry.approval_id,
                    outcome=entry.outcome,
                    comment=entry.comment,
                    detail=entry.detail,
                )
            )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def audit_entries(self, approval_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first; only ``approval_id``'s entries when given."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if approval_id is not None:
            query = query.where(audit_log.c.approval_id == approval_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            AuditEntry(
                slack_user_id=row.slack_user_id,
                action=row.action,
                approval_id=row.approval_id,
                outcome=row.outcome,
                comment=row.comment,
                detail=row.detail,
                at=row.at,
                id=row.id,
            )
            for row in rows
        ]

    # ---------------------------------------------------------------------------- process watches

    async def add_watch(self, process_status_id: str, channel: str, slack_user_id: str) -> bool:
        """Starts watching; False if already actively watched in ``channel``. A finished watch is re-armed."""
        key = _watch_key(process_status_id, channel)
        for _ in range(_CLAIM_ATTEMPTS):
            now = utcnow()
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
                .values(last_state=last_state, finished_at=utcnow())
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


def _card(row: Row[Any]) -> CardRecord:
    return CardRecord(
        approval_id=row.approval_id,
        kind=row.kind,
        state=CardState(row.state),
        channel=row.channel,
        ts=row.ts,
        posted_at=row.posted_at,
        updated_at=row.updated_at,
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
