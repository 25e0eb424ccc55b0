"""Identity links and the audit log's identities in the store, on SQLite and on PostgreSQL."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert

from bot.clock import utcnow
from bot.storage.engine import create_engine, writer
from bot.storage.identity_links import CommerceUserLinked
from bot.storage.migrations import alembic_config
from bot.storage.records import AuditEntry, IdentityLink, Vote
from bot.storage.schema import identity_links
from bot.storage.store import Store
from tests.pg import database_url, fresh_postgres_url, postgres_url, sqlite_url  # noqa: F401
from tests.store_helpers import audit_entries


def test_a_link_is_replaced_listed_and_removed(database_url: str) -> None:
    async def body() -> None:
        store = await Store.open(database_url)
        try:
            assert await store.link_identity(IdentityLink("U1", "jane", "5001")) is None
            replaced = await store.link_identity(IdentityLink("U1", "jane.b", "5002", linked_by="email"))
            assert replaced is not None and replaced.commerce_logon_id == "jane"
            await store.link_identity(IdentityLink("U0", "bob", "5003"))
            links = await store.identity_links()
            assert [(k.slack_user_id, k.commerce_user_id, k.linked_by) for k in links] == [
                ("U0", "5003", "cli"),
                ("U1", "5002", "email"),
            ]
            assert all(k.linked_at is not None for k in links)
            removed = await store.unlink_identity("U1")
            assert removed is not None and removed.commerce_logon_id == "jane.b"
            assert await store.unlink_identity("U1") is None
            assert await store.identity_link("U1") is None
        finally:
            await store.close()

    asyncio.run(body())


def test_two_links_written_at_once_for_one_user_leave_one_row(database_url: str) -> None:
    async def body() -> None:
        stores = [await Store.open(database_url) for _ in range(2)]
        try:
            await asyncio.gather(
                stores[0].link_identity(IdentityLink("U1", "jane", "5001")),
                stores[1].link_identity(IdentityLink("U1", "jane", "5001")),
            )
            assert [k.slack_user_id for k in await stores[0].identity_links()] == ["U1"]
        finally:
            for store in stores:
                await store.close()

    asyncio.run(body())


def test_the_audit_report_keeps_both_identities_and_filters_by_time_and_approval(database_url: str) -> None:
    async def body() -> None:
        store = await Store.open(database_url)
        try:
            early = datetime(2026, 1, 1, tzinfo=UTC)
            late = datetime(2026, 6, 1, tzinfo=UTC)
            await store.record_audit(
                AuditEntry("U1", "approve", "1", "ok", at=early, commerce_logon_id="svc")
            )
            await store.record_audit(
                AuditEntry(
                    "U2",
                    "reject",
                    "2",
                    "ok",
                    at=late,
                    slack_user_name="jane",
                    commerce_user_id="5001",
                    commerce_logon_id="jane.approver",
                )
            )
            everything = await store.audit_report()
            assert [(e.approval_id, e.commerce_logon_id) for e in everything] == [
                ("1", "svc"),
                ("2", "jane.approver"),
            ]
            [recent] = await store.audit_report(since=datetime(2026, 3, 1, tzinfo=UTC))
            assert (recent.slack_user_name, recent.commerce_user_id) == ("jane", "5001")
            assert [e.approval_id for e in await store.audit_report(approval_id="1")] == ["1"]
        finally:
            await store.close()

    asyncio.run(body())


def test_two_slack_users_linked_to_one_commerce_user_at_once_leave_one_link(database_url: str) -> None:
    async def body() -> None:
        stores = [await Store.open(database_url) for _ in range(2)]
        try:
            results = await asyncio.gather(
                stores[0].link_identity(IdentityLink("U1", "jane", "5001")),
                stores[1].link_identity(IdentityLink("U2", "jane", "5001")),
                return_exceptions=True,
            )
            refused = [r for r in results if isinstance(r, CommerceUserLinked)]
            assert len(refused) == 1
            [kept] = await stores[0].identity_links_to("5001")
            assert refused[0].holder.slack_user_id == kept.slack_user_id
            with pytest.raises(CommerceUserLinked):
                await stores[1].link_identity(IdentityLink("U3", "jane", "5001"))
        finally:
            for store in stores:
                await store.close()

    asyncio.run(body())


def test_the_one_link_step_removes_every_link_of_a_commerce_user_linked_twice(database_url: str) -> None:
    async def duplicates_before_the_step() -> None:
        engine = create_engine(database_url)
        try:
            async with writer(engine).begin() as conn:
                await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0005"))
                for slack_user, commerce_user in (("U1", "5001"), ("U2", "5001"), ("U3", "5002")):
                    await conn.execute(
                        insert(identity_links).values(
                            slack_user_id=slack_user,
                            commerce_logon_id=f"user{commerce_user}",
                            commerce_user_id=commerce_user,
                            linked_by="cli",
                            linked_at=utcnow(),
                        )
                    )
        finally:
            await engine.dispose()

    async def body() -> None:
        await duplicates_before_the_step()
        store = await Store.open(database_url)
        try:
            assert [k.slack_user_id for k in await store.identity_links()] == ["U3"]
            removed = [e for e in await audit_entries(store) if e.outcome == "duplicate_link_removed"]
            assert sorted(e.slack_user_id for e in removed) == ["U1", "U2"]
            with pytest.raises(CommerceUserLinked):
                await store.link_identity(IdentityLink("U4", "user5002", "5002"))
        finally:
            await store.close()

    asyncio.run(body())


def test_a_vote_keeps_its_commerce_user_and_a_dropped_vote_leaves_its_audit_row(database_url: str) -> None:
    async def body() -> None:
        store = await Store.open(database_url)
        try:
            entry = AuditEntry("U1", "approve", "10003", "voted")
            assert await store.cast_vote("10003", Vote("U1", "5001"), entry)
            assert not await store.cast_vote("10003", Vote("U1", "5002"), entry)  # one vote per Slack user
            assert await store.cast_vote("10003", Vote("U2", None), replace(entry, slack_user_id="U2"))
            assert await store.votes("10003") == [Vote("U1", "5001"), Vote("U2", None)]

            dropped = replace(entry, outcome="vote_dropped")
            assert await store.drop_vote("10003", "U1", dropped)
            assert not await store.drop_vote("10003", "U1", dropped)
            assert await store.voters("10003") == ["U2"]
            outcomes = [e.outcome for e in await audit_entries(store, "10003")]
            assert outcomes.count("vote_dropped") == 1
        finally:
            await store.close()

    asyncio.run(body())
