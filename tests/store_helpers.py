"""Test-only changes to stored rows that the product never makes itself (simulating the past)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.storage.db import decision_claims, process_batches
from bot.storage.store import Store


async def age_decision_claim(store: Store, approval_id: str, by: timedelta) -> None:
    """Pretends the approval's decision claim was taken ``by`` ago (a bot that died mid-decision)."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(decision_claims)
            .where(decision_claims.c.approval_id == approval_id)
            .values(claimed_at=datetime.now(UTC) - by)
        )


async def age_batch(store: Store, batch_id: str, by: timedelta) -> None:
    """Pretends the batch was handed in ``by`` ago (its processes have been pending that long)."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(process_batches)
            .where(process_batches.c.batch_id == batch_id)
            .values(created_at=datetime.now(UTC) - by)
        )
