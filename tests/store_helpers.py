"""Test-only changes to stored rows that the product never makes itself (simulating the past)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.storage.schema import bot_instances, decision_claims, process_batches
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


async def silence_instance(store: Store, instance_id: str, by: timedelta) -> None:
    """Pretends the bot process ``instance_id`` last beat ``by`` ago (it died then)."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(bot_instances)
            .where(bot_instances.c.instance_id == instance_id)
            .values(heartbeat_at=datetime.now(UTC) - by)
        )


async def claim_from_another_process(
    database_url: str, approval_id: str, slack_user_id: str, *, replica: str = "other-replica"
) -> str:
    """Takes a decision claim as a second bot process would (its own pool, its own id); its id."""
    other = await Store.open(database_url, replica=replica)
    try:
        await other.register_instance()
        assert await other.claim_decision(approval_id, slack_user_id, "approve") is None
        return other.instance_id
    finally:
        await other.close()
