"""On PostgreSQL a click's two transactions and each page of the process poll are one round trip
each (counted from libpq's trace of the wire), and they still say what the longer forms said."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from bot.storage.records import AuditEntry, CardState, DecisionState, IdentityLink, Notify
from bot.storage.store import Store
from tests.pg import fresh_postgres_url, postgres_url  # noqa: F401
from tests.round_trips import round_trips


def approved(approval_id: str) -> AuditEntry:
    return AuditEntry(slack_user_id="U1", action="approve", approval_id=approval_id, outcome="ok")


def test_a_click_claims_and_records_in_one_round_trip_each(fresh_postgres_url: str) -> None:
    async def main() -> None:
        store = await Store.open(fresh_postgres_url)
        try:
            await store.register_instance()
            await store.claim_card("A1", "order")
            await store.card_posted("A1", "C1", "1.1", order_details='{"order_id": "7"}')
            await store.link_identity(IdentityLink("U1", "jane", "1001"))
            await store.engine.dispose()  # every connection from here on is traced
            with round_trips(store.engine) as trips:
                trips.reset()
                claimed = await store.claim_decision_reading("A1", "U1", "approve")
                assert trips.messages() == ["Sync"]  # no BEGIN, no COMMIT
                assert claimed.in_the_way is None
                assert claimed.card is not None and claimed.card.order_details == '{"order_id": "7"}'
                assert claimed.link is not None and claimed.link.commerce_user_id == "1001"

                trips.reset()
                lost = await store.claim_decision_reading("A1", "U2", "reject")
                assert trips.count == 1
                assert lost.in_the_way is not None and lost.in_the_way.slack_user_id == "U1"
                assert lost.in_the_way.state is DecisionState.IN_PROGRESS
                assert (lost.card, lost.link) == (claimed.card, None)

                trips.reset()
                recorded = await store.record_decision("A1", CardState.APPROVED, approved("A1"))
                assert trips.count == 1
                assert recorded.first and recorded.card is not None
                assert recorded.card.state is CardState.APPROVED

                trips.reset()
                again = await store.record_decision("A1", CardState.REJECTED, approved("A1"))
                assert trips.count == 1
                assert not again.first  # recorded before: nothing written, the card as it was
                assert again.card is not None and again.card.state is CardState.APPROVED

                trips.reset()
                no_card = await store.claim_decision_reading("A2", "U1", "approve")
                await store.record_decision("A2", CardState.APPROVED, approved("A2"))
                assert trips.count == 2
                assert (no_card.in_the_way, no_card.card) == (None, None)
            claim = await store.get_decision("A1")
            assert claim is not None and claim.state is DecisionState.DONE
            audited = [e.approval_id for e in await store.audit_report()]
            assert audited == ["A1", "A2"]  # one row each: none for the repeat
        finally:
            await store.close()

    asyncio.run(main())


def test_a_record_without_a_claim_falls_back_to_the_transaction(fresh_postgres_url: str) -> None:
    async def main() -> None:
        store = await Store.open(fresh_postgres_url)
        try:
            await store.claim_card("A1", "order")
            await store.card_posted("A1", "C1", "1.1")
            recorded = await store.record_decision("A1", CardState.APPROVED, approved("A1"))
            assert recorded.first and recorded.card is not None
            assert recorded.card.state is CardState.APPROVED
            assert [e.approval_id for e in await store.audit_report()] == ["A1"]
        finally:
            await store.close()

    asyncio.run(main())


def test_each_page_of_active_processes_is_one_round_trip(fresh_postgres_url: str) -> None:
    async def main() -> None:
        store = await Store.open(fresh_postgres_url)
        try:
            ids = [f"P{i:03d}" for i in range(25)]
            await store.create_batch(ids, "C1", label=None, notify=Notify.ALL, requested_by="api")
            await store.add_watch("P007", "C2", "U1")
            await store.engine.dispose()
            seen: list[str] = []
            with round_trips(store.engine) as trips:
                trips.reset()
                after = None
                pages = 0
                while True:
                    page = await store.active_processes(after=after, limit=10)
                    pages += 1
                    seen += [p.process_status_id for p in page]
                    if len(page) < 10:
                        break
                    after = page[-1].key
                assert trips.count == pages == 3
            assert seen == sorted([*ids, "P007"])
        finally:
            await store.close()

    asyncio.run(main())


def test_an_ingest_is_one_round_trip_however_many_ids(fresh_postgres_url: str) -> None:
    async def main() -> None:
        store = await Store.open(fresh_postgres_url)
        try:
            await store.create_batch(["P1", "P2"], "C1", label=None, notify=Notify.ALL, requested_by="api")
            ids = [f"Q{i:04d}" for i in range(2_500)] + ["P2"]  # P2: watched already, left out
            await store.engine.dispose()
            with round_trips(store.engine) as trips:
                trips.reset()
                created = await store.create_batch(
                    ids, "C1", label=None, notify=Notify.ALL, requested_by="api"
                )
                # the request key's look-up, the members, the batch: one statement, no page per 1,000 ids
                assert trips.count == 1
            assert (created.created, created.new) == (True, 2_500)
            again = await store.create_batch(ids, "C1", label=None, notify=Notify.ALL, requested_by="api")
            assert (again.batch_id, again.created) == (created.batch_id, False)
        finally:
            await store.close()

    asyncio.run(main())


def test_a_page_of_active_processes_is_read_in_index_order_without_a_sort(fresh_postgres_url: str) -> None:
    """PostgreSQL does not take ``finished_at IS NULL`` as the index's leading key when ordering: a page
    ordered by (process id, batch id) alone sorted every active row; ordered as the index is, it is one
    range read in order."""

    async def main() -> None:
        store = await Store.open(fresh_postgres_url)
        try:
            ids = [f"P{i:05d}" for i in range(3_000)]
            await store.create_batch(ids, "C1", label=None, notify=Notify.ALL, requested_by="api")
            async with store.engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
            sent: list[tuple[str, Any]] = []

            def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
                sent.append((statement, parameters))

            event.listen(store.engine.sync_engine, "before_cursor_execute", remember)
            page = await store.active_processes(after=("P01000", ""), limit=1_000)
            event.remove(store.engine.sync_engine, "before_cursor_execute", remember)
            assert [p.process_status_id for p in page] == ids[1000:2000]
            ((statement, parameters),) = sent
            async with store.engine.connect() as conn:
                plan = "\n".join(r[0] for r in await conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert "ix_batch_processes_unfinished_by_id" in plan
            assert "Sort" not in plan, plan
        finally:
            await store.close()

    asyncio.run(main())
