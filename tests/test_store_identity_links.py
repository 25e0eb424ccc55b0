"""Identity links and the audit log's identities in the store, on SQLite and on PostgreSQL."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.storage.records import AuditEntry, IdentityLink
from bot.storage.store import Store
from tests.pg import database_url, fresh_postgres_url, postgres_url, sqlite_url  # noqa: F401


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
