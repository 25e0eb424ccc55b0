"""Test-only changes to stored rows that the product never makes itself (simulating the past), and
reads and writes through the store paths the bot uses, shaped as the tests ask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.messaging import Announced
from bot.storage.records import (
    ActiveProcess,
    AuditEntry,
    BatchMember,
    CardState,
    DecisionClaim,
    MemberState,
    PostAttempt,
    PostState,
    Watch,
    WatchEnding,
)
from bot.storage.schema import bot_instances, decision_claims, post_attempts, process_batches
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
        assert await claim_decision(other, approval_id, slack_user_id, "approve") is None
        return other.instance_id
    finally:
        await other.close()


# -- reading and recording through the paths the bot uses ------------------------------------------

PAGE_LIMIT = 100
EVERY_FINAL_STATE = tuple(state.value for state in MemberState if state is not MemberState.PENDING)


async def claim_decision(
    store: Store, approval_id: str, slack_user_id: str, action: str
) -> DecisionClaim | None:
    """Claims the decision as a click does: ``None`` when this call got it, else the claim in the way."""
    return (await store.claim_decision_reading(approval_id, slack_user_id, action)).in_the_way


async def finish_decision(store: Store, approval_id: str) -> None:
    """Commerce accepted the claimed decision: recorded as the bot records it (the claim DONE, the
    card if any moved, an ``ok`` audit row), in one transaction."""
    claim = await store.get_decision(approval_id)
    assert claim is not None, f"no decision claim on {approval_id}"
    state = CardState.APPROVED if claim.action == "approve" else CardState.REJECTED
    entry = AuditEntry(claim.slack_user_id, claim.action, approval_id, "ok")
    await store.record_decision(approval_id, state, entry)


async def audit_entries(store: Store, approval_id: str | None = None) -> list[AuditEntry]:
    """The audit rows (only ``approval_id``'s when given), newest first, as ``approvals-bot audit``
    reads them."""
    return list(reversed(await store.audit_report(approval_id=approval_id)))


async def _active(store: Store, *, batches: bool) -> list[ActiveProcess]:
    """Every unfinished process, read a page at a time as the process-status poll reads them."""
    found: list[ActiveProcess] = []
    after = None
    while page := await store.active_processes(after=after, limit=PAGE_LIMIT, batches=batches):
        found.extend(page)
        after = page[-1].key
    return found


async def active_watches(store: Store) -> list[Watch]:
    """Unfinished single watches, oldest first."""
    watches = [p.watch for p in await _active(store, batches=False) if p.watch is not None]
    return sorted(watches, key=lambda w: (w.created_at, w.process_status_id, w.channel))


async def finish_watch(store: Store, process_status_id: str, channel: str, state: str) -> bool:
    """Finishes the active single watch of the process in ``channel`` as a process round does (with its
    announcement's post attempt); False when none is active."""
    wanted = (process_status_id, channel)
    active = [w for w in await active_watches(store) if (w.process_status_id, w.channel) == wanted]
    if not active or active[0].batch_id is None:
        return False
    ending = WatchEnding(active[0].batch_id, process_status_id, channel, state)
    return bool(await store.finish_watches([ending], announcement=Announced.PROCESS_STATUS.value))


async def active_batch_members(store: Store) -> list[BatchMember]:
    """Unfinished processes of every batch but single watches, by batch and process id."""
    members = [p.member for p in await _active(store, batches=True) if p.member is not None]
    return sorted(members, key=lambda m: (m.batch_id, m.process_status_id))


async def get_watch(store: Store, process_status_id: str, channel: str) -> Watch | None:
    """The active single watch of the process in ``channel``, else the latest finished one (as the
    daily digest reads them)."""
    for watch in await active_watches(store):
        if (watch.process_status_id, watch.channel) == (process_status_id, channel):
            return watch
    finished = await store.watches_finished_between(
        datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=3650), EVERY_FINAL_STATE
    )
    mine = [w for w in finished if (w.process_status_id, w.channel) == (process_status_id, channel)]
    return mine[-1] if mine else None


async def post_attempt(store: Store, kind: str, subject_id: str) -> PostAttempt | None:
    """The post attempt of the announcement, as its row is (the reconciler reads them in bulk)."""
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(post_attempts).where(
                    post_attempts.c.kind == kind, post_attempts.c.subject_id == subject_id
                )
            )
        ).first()
    if row is None:
        return None
    return PostAttempt(
        row.kind, row.subject_id, row.channel, row.owner, PostState(row.state), row.started_at, row.thread_ts
    )
