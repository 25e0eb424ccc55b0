"""Retention: what ended long enough ago is pruned; what is open, recent or audited is kept."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.notifier.retention import RetentionPruner
from bot.storage.records import CardState
from bot.storage.store import Store
from tests.pg import database_url, fresh_postgres_url, postgres_url, sqlite_url  # noqa: F401
from tests.store_helpers import audit_entries, claim_decision, finish_decision, finish_watch, get_watch


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_pruning_removes_only_what_ended_before_the_retention_period(database_url: str) -> None:
    clock = Clock()

    async def scenario() -> None:
        store = await Store.open(database_url, clock=clock)
        try:
            # Ended on day 0: a decided card, a card decided elsewhere, a finished watch, a done claim.
            for approval_id in ("A1", "A2", "A3"):
                assert await store.claim_card(approval_id, "order")
                await store.card_posted(approval_id, "C1", f"1.{approval_id[1]}")
            await store.set_card_state("A1", CardState.APPROVED)
            await store.set_card_state("A2", CardState.DECIDED_ELSEWHERE)
            assert await claim_decision(store, "A1", "U1", "approve") is None
            await finish_decision(store, "A1")  # with its audit row
            assert await store.add_watch("P1", "C1", "U1")
            assert await finish_watch(store, "P1", "C1", "SUCCESS")
            assert await store.add_watch("P2", "C1", "U1")  # still active
            assert await store.claim_bulk_submission("V1", "U1")  # a submitted selection

            pruner = RetentionPruner(store, keep_for=timedelta(days=90))
            clock.now += timedelta(days=89)
            await pruner.poll_once()
            assert await store.get_card("A1") is not None  # not old enough yet

            clock.now += timedelta(days=2)
            await pruner.poll_once()
            assert await store.get_card("A1") is None
            assert await store.get_card("A2") is None
            assert await store.get_card("A3") is not None  # still open: never pruned
            assert await store.get_decision("A1") is None
            assert await get_watch(store, "P1", "C1") is None
            assert await get_watch(store, "P2", "C1") is not None
            assert await store.claim_bulk_submission("V1", "U1")  # pruned: its row is free again
            assert not await store.claim_bulk_submission("V1", "U1")
            assert len(await audit_entries(store)) == 1  # kept: no audit retention set

            await RetentionPruner(
                store, keep_for=timedelta(days=90), keep_audit_for=timedelta(days=30)
            ).poll_once()
            assert await audit_entries(store) == []
        finally:
            await store.close()

    asyncio.run(scenario())
