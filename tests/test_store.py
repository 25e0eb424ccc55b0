"""Store behaviour, on SQLite and on a real PostgreSQL (every ``database_url`` test runs on both)."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from alembic import command
from sqlalchemy import String, column, insert, inspect, table, text
from sqlalchemy.exc import StatementError

from bot.clock import utcnow
from bot.messaging import Announced
from bot.storage.engine import create_engine, safe_url, to_async_url, writer
from bot.storage.migrations import alembic_config, head
from bot.storage.records import (
    AuditEntry,
    CardState,
    DecisionState,
    IdentityLink,
    Notify,
    PostAttempt,
    PostState,
    WatchEnding,
)
from bot.storage.schema import UTCDateTime
from bot.storage.store import Store
from tests.pg import database_url, fresh_postgres_url, postgres_url, sqlite_url  # noqa: F401
from tests.store_helpers import (
    active_batch_members,
    active_watches,
    age_decision_claim,
    audit_entries,
    claim_decision,
    finish_decision,
    finish_watch,
    get_watch,
    post_attempt,
    silence_instance,
)

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]


def with_store(url: str, body: Callable[[Store], Awaitable[T]]) -> T:
    async def main() -> T:
        store = await Store.open(url)
        try:
            return await body(store)
        finally:
            await store.close()

    return asyncio.run(main())


ALL_VERSIONS = [head()]
"""The newest revision, recorded once."""


async def table_names(store: Store) -> set[str]:
    async with store.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def version_rows(store: Store) -> list[str]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


# ------------------------------------------------------------------------------------------ URLs


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite+aiosqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("postgresql://u:p%40ss@db:5432/bot", "postgresql+psycopg://u:p%40ss@db:5432/bot"),
        ("postgres://u:p@db/bot?sslmode=require", "postgresql+psycopg://u:p@db/bot?sslmode=require"),
        ("postgresql+psycopg://u@db/bot", "postgresql+psycopg://u@db/bot"),
        ("postgresql+asyncpg://u@db/bot", "postgresql+asyncpg://u@db/bot"),
    ],
)
def test_to_async_url(given: str, expected: str) -> None:
    assert to_async_url(given) == expected


def test_safe_url_hides_password() -> None:
    shown = safe_url("postgresql://bot:s3cret@db:5432/approvals")
    assert "s3cret" not in shown
    assert "bot:***@db:5432/approvals" in shown


# ------------------------------------------------------------------------------- schema/migration


def test_open_creates_schema_and_reopen_is_idempotent(database_url: str) -> None:
    async def first(store: Store) -> None:
        assert await store.ping() is True
        tables = await table_names(store)
        assert {"alembic_version", "approval_cards", "decision_claims", "audit_log"} <= tables
        assert not {"schema_version", "process_watches"} & tables
        assert await version_rows(store) == ALL_VERSIONS
        assert await store.claim_card("A1", "order")

    with_store(database_url, first)

    async def again(store: Store) -> None:
        assert await version_rows(store) == ALL_VERSIONS
        assert (await store.get_card("A1")) is not None  # re-migrating did not recreate the tables

    with_store(database_url, again)


def test_two_stores_open_the_same_empty_database_at_once(database_url: str) -> None:
    async def main() -> None:
        stores = await asyncio.gather(*(Store.open(database_url) for _ in range(3)))
        try:
            for store in stores:
                assert await version_rows(store) == ALL_VERSIONS
            assert await stores[0].claim_card("A1", "order")
            assert not await stores[1].claim_card("A1", "order")
        finally:
            for store in stores:
                await store.close()

    asyncio.run(main())


OPEN_IN_SUBPROCESS = """
import asyncio, sys
from bot.storage.store import Store

async def main():
    store = await Store.open(sys.argv[1])
    ok = await store.ping()
    await store.close()
    sys.exit(0 if ok else 3)

asyncio.run(main())
"""


def test_two_processes_migrate_the_same_empty_database_at_once(database_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_IN_SUBPROCESS, database_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err

    async def check(store: Store) -> None:
        assert await version_rows(store) == ALL_VERSIONS

    with_store(database_url, check)


def test_sqlite_creates_missing_parent_folder_and_accepts_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absolute = tmp_path / "a" / "b" / "bot.db"
    with_store(f"sqlite:///{absolute}", lambda store: store.claim_card("A1", "order"))
    assert absolute.exists()

    monkeypatch.chdir(tmp_path)
    assert with_store("sqlite:///./rel/dir/bot.db", lambda store: store.claim_card("A1", "order"))
    assert (tmp_path / "rel" / "dir" / "bot.db").exists()


def test_sqlite_uses_wal_and_busy_timeout(sqlite_url: str) -> None:
    async def check(store: Store) -> None:
        async with store.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert int((await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() or 0) >= 5000

    with_store(sqlite_url, check)


def test_ping_is_false_when_the_database_is_unreachable() -> None:
    async def main() -> bool:
        store = Store(create_engine("postgresql://nobody@127.0.0.1:1/none"))
        try:
            return await store.ping()
        finally:
            await store.close()

    assert asyncio.run(main()) is False


# ------------------------------------------------------------------------------------- cards


def test_card_is_claimed_once_and_can_be_released(database_url: str) -> None:
    async def body(store: Store) -> None:
        assert await store.claim_card("A1", "order") is True
        assert await store.claim_card("A1", "order") is False
        card = await store.get_card("A1")
        assert card is not None
        assert (card.kind, card.state, card.channel, card.ts, card.posted_at) == (
            "order",
            CardState.POSTING,
            None,
            None,
            None,
        )
        assert await store.open_cards() == []  # not posted yet

        await store.release_card("A1")
        assert await store.get_card("A1") is None
        assert await store.claim_card("A1", "order") is True

        await store.card_posted("A1", "C1", "111.222")
        await store.release_card("A1")  # only POSTING rows are released
        card = await store.get_card("A1")
        assert card is not None
        assert (card.state, card.channel, card.ts) == (CardState.PENDING, "C1", "111.222")
        assert_utc(card.posted_at)
        assert await store.claim_card("A1", "order") is False  # posted: never again

    with_store(database_url, body)


def test_known_card_ids_finds_cards_in_any_state_across_chunks(database_url: str) -> None:
    async def body(store: Store) -> None:
        ids = [str(10_000 + i) for i in range(1_200)]  # more than one IN (...) chunk
        for approval_id in ids[::100]:
            assert await store.claim_card(approval_id, "order")
        await store.card_posted(ids[100], "C1", "1.1")
        await store.set_card_state(ids[100], CardState.DECIDED_ELSEWHERE)
        assert await store.known_card_ids([*ids, "99"]) == set(ids[::100])
        assert await store.known_card_ids([]) == set()

    with_store(database_url, body)


def test_cards_claimed_in_sets_skip_rows_already_there_and_are_released_together(
    database_url: str,
) -> None:
    async def body(store: Store) -> None:
        ids = [str(20_000 + i) for i in range(5_100)]  # more than one transaction of claims
        assert await store.claim_card(ids[7], "buyer")
        await store.card_posted(ids[7], "C1", "1.1")
        assert await store.claim_card(ids[5_050], "order")

        claimed = await store.claim_cards({i: "order" for i in ids})
        assert sorted(claimed) == sorted(set(ids) - {ids[7], ids[5_050]})
        assert await store.claim_cards({i: "order" for i in ids}) == []
        card = await store.get_card(ids[0])
        assert card is not None and (card.kind, card.state) == ("order", CardState.POSTING)
        kept = await store.get_card(ids[7])
        assert kept is not None and (kept.kind, kept.state) == ("buyer", CardState.PENDING)

        await store.release_cards(claimed)
        assert await store.known_card_ids(ids) == {ids[7], ids[5_050]}
        assert await store.claim_cards({}) == []

    with_store(database_url, body)


def test_cards_recorded_in_a_summary_take_it_as_their_thread_and_keep_a_decided_state(
    database_url: str,
) -> None:
    async def body(store: Store) -> None:
        ids = [str(40_000 + i) for i in range(1_200)]  # more than one page of follow-up rows
        assert sorted(await store.claim_cards({i: "order" for i in ids})) == sorted(ids)
        await store.set_card_state(ids[1], CardState.APPROVED)  # decided while the summary went out

        await store.cards_summarised(ids, "C1", "9.9")
        await store.cards_summarised(ids[:1], "C2", "10.1")  # announced again: the newer summary

        first, decided = await store.get_card(ids[0]), await store.get_card(ids[1])
        assert first is not None and (first.state, first.channel, first.ts) == (CardState.PENDING, "C2", None)
        assert decided is not None and (decided.state, decided.channel) == (CardState.APPROVED, "C1")
        summaries = {a.approval_id: a.summary_ts for a in await store.open_approvals()}
        assert summaries == {ids[0]: "10.1"} | {i: "9.9" for i in ids[2:]}

    with_store(database_url, body)


def test_concurrent_set_claims_from_two_stores_claim_each_card_once(database_url: str) -> None:
    async def main() -> None:
        first = await Store.open(database_url, replica="replica-a")
        second = await Store.open(database_url, replica="replica-b")
        try:
            ids = {str(30_000 + i): "order" for i in range(500)}
            results = await asyncio.gather(first.claim_cards(ids), second.claim_cards(ids))
            assert sorted(results[0] + results[1]) == sorted(ids)
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())


def test_concurrent_card_claims_from_two_stores_post_once(database_url: str) -> None:
    async def main() -> None:
        # Two bot processes (two replicas), each registered as the runtime registers it at start.
        first = await Store.open(database_url, replica="replica-a")
        second = await Store.open(database_url, replica="replica-b")
        await first.register_instance()
        await second.register_instance()
        try:
            results = await asyncio.gather(
                *((first if i % 2 else second).claim_card("A1", "buyer") for i in range(20))
            )
            assert results.count(True) == 1
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())


def test_open_cards_and_card_states(database_url: str) -> None:
    async def body(store: Store) -> None:
        for approval_id in ("A1", "A2", "A3"):
            assert await store.claim_card(approval_id, "order")
            await store.card_posted(approval_id, "C1", f"ts-{approval_id}")
        assert [c.approval_id for c in await store.open_cards()] == ["A1", "A2", "A3"]

        await store.set_card_state("A2", CardState.APPROVED)
        card = await store.get_card("A2")
        assert card is not None
        assert card.state is CardState.APPROVED
        assert [c.approval_id for c in await store.open_cards()] == ["A1", "A3"]

        assert await store.transition_card("A3", CardState.PENDING, CardState.DECIDED_ELSEWHERE) is True
        assert await store.transition_card("A3", CardState.PENDING, CardState.REJECTED) is False
        card = await store.get_card("A3")
        assert card is not None
        assert card.state is CardState.DECIDED_ELSEWHERE
        assert [c.approval_id for c in await store.open_cards()] == ["A1"]

    with_store(database_url, body)


def test_stale_posting_cards(database_url: str) -> None:
    async def body(store: Store) -> None:
        before = datetime.now(UTC)
        assert await store.claim_card("A1", "order")
        assert await store.claim_card("A2", "order")
        await store.card_posted("A2", "C1", "1.2")
        assert await store.stale_posting_cards(before - timedelta(minutes=1)) == []
        stale = await store.stale_posting_cards(datetime.now(UTC) + timedelta(seconds=1))
        assert [c.approval_id for c in stale] == ["A1"]  # the posted card is not stale
        # an aware cut-off in another zone means the same instant
        plus_two = timezone(timedelta(hours=2))
        assert [c.approval_id for c in await store.stale_posting_cards(datetime.now(plus_two))] == ["A1"]

    with_store(database_url, body)


# --------------------------------------------------------------------------------- decisions


def test_a_claim_reads_the_card_and_the_claimants_link_in_its_own_transaction(database_url: str) -> None:
    async def body(store: Store) -> None:
        await store.register_instance()
        await store.claim_card("A1", "order")
        await store.card_posted("A1", "C1", "1.1", order_details='{"order_id": "7"}')
        await store.link_identity(IdentityLink("U1", "jane", "1001"))

        won = await store.claim_decision_reading("A1", "U1", "approve")
        assert won.in_the_way is None
        assert won.card is not None and (won.card.ts, won.card.order_details) == ("1.1", '{"order_id": "7"}')
        assert won.link is not None and won.link.commerce_user_id == "1001"

        lost = await store.claim_decision_reading("A1", "U2", "reject")
        assert lost.in_the_way is not None and lost.in_the_way.slack_user_id == "U1"
        assert lost.card == won.card
        assert lost.link is None  # U2 is not linked

        none = await store.claim_decision_reading("A2", "U1", "approve")  # no card at all
        assert (none.in_the_way, none.card) == (None, None)

    with_store(database_url, body)


def test_decision_claim_race_across_two_stores_has_one_winner(database_url: str) -> None:
    async def main() -> None:
        # Two bot processes (two replicas), each registered as the runtime registers it at start.
        first = await Store.open(database_url, replica="replica-a")
        second = await Store.open(database_url, replica="replica-b")
        await first.register_instance()
        await second.register_instance()
        try:
            results = await asyncio.gather(
                *(
                    claim_decision(
                        first if i % 2 else second, "A1", f"U{i}", "approve" if i % 3 else "reject"
                    )
                    for i in range(20)
                )
            )
            winners = [i for i, result in enumerate(results) if result is None]
            assert len(winners) == 1
            winner = winners[0]
            losers = [result for result in results if result is not None]
            assert len(losers) == 19
            for claim in losers:
                assert claim.slack_user_id == f"U{winner}"
                assert claim.action == ("approve" if winner % 3 else "reject")
                assert claim.state is DecisionState.IN_PROGRESS
                assert_utc(claim.claimed_at)
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())


def test_finish_and_release_decision(database_url: str) -> None:
    async def body(store: Store) -> None:
        assert await claim_decision(store, "A1", "U1", "approve") is None
        existing = await claim_decision(store, "A1", "U2", "reject")
        assert existing is not None
        assert (existing.slack_user_id, existing.action, existing.state) == (
            "U1",
            "approve",
            DecisionState.IN_PROGRESS,
        )

        await store.release_decision("A1")  # Commerce call failed
        assert await store.get_decision("A1") is None
        assert await claim_decision(store, "A1", "U2", "reject") is None  # retry allowed

        await finish_decision(store, "A1")
        done = await claim_decision(store, "A1", "U3", "approve")
        assert done is not None
        assert (done.slack_user_id, done.action, done.state) == ("U2", "reject", DecisionState.DONE)

        await store.release_decision("A1")  # a DONE decision is not released
        kept = await store.get_decision("A1")
        assert kept is not None
        assert kept.state is DecisionState.DONE

    with_store(database_url, body)


def test_a_decision_names_the_organization_its_card_shows_whichever_is_recorded_first(
    database_url: str,
) -> None:
    """Slack shows a card before the bot records the post, so a click can be recorded before the card
    says which buyer organization it shows: the audit row names it either way (on PostgreSQL the
    record is one statement; its audit row takes it from the card it moves)."""

    async def decide(store: Store, approval_id: str) -> None:
        assert await claim_decision(store, approval_id, "U1", "approve") is None
        await finish_decision(store, approval_id)

    async def body(store: Store) -> None:
        for approval_id in ("POSTED_FIRST", "DECIDED_FIRST", "DETAILS_LATER"):
            assert await store.claim_card(approval_id, "buyer")

        assert await store.card_posted("POSTED_FIRST", "C1", "1.1", organization_id="ORG")
        await decide(store, "POSTED_FIRST")

        await decide(store, "DECIDED_FIRST")
        assert not await store.card_posted("DECIDED_FIRST", "C1", "1.2", organization_id="ORG")

        assert await store.card_posted("DETAILS_LATER", "C1", "1.3")
        await decide(store, "DETAILS_LATER")
        await store.card_shows_order_details("DETAILS_LATER", '{"order_id": "7"}', "ORG")

        named = {e.approval_id: e.organization_id for e in await audit_entries(store)}
        assert named == {"POSTED_FIRST": "ORG", "DECIDED_FIRST": "ORG", "DETAILS_LATER": "ORG"}
        assert (await store.organization_history("ORG", 90)).approved == 3

    with_store(database_url, body)


def test_the_card_organization_step_names_it_on_cards_and_on_their_decisions(database_url: str) -> None:
    """Revision 0011 reads the organization from what each card keeps (the JSON the bot wrote), and
    gives it to the decisions recorded without one."""
    registrant = '{"user_id": "5001", "name": "Ann", "organization_id": "ORG_BUYER"}'
    order = '{"order_id": "7", "organization_id": "ORG_ORDER"}'
    cards_then = table(
        "approval_cards",
        *(column(name, String) for name in ("approval_id", "kind", "state", "order_details", "registrant")),
        column("updated_at", UTCDateTime),
    )
    audit_then = table(
        "audit_log",
        *(
            column(name, String)
            for name in ("slack_user_id", "action", "approval_id", "outcome", "organization_id")
        ),
        column("at", UTCDateTime),
    )
    shown = {
        "BUYER": (None, registrant),
        "ORDER": (order, None),
        "UNREADABLE": ("{", "[1]"),
        "NONE": (None, None),
    }
    decided: list[tuple[str, str, str | None]] = [
        ("approve", "BUYER", None),
        ("reject", "ORDER", None),
        ("details", "ORDER", None),
        ("approve", "UNREADABLE", None),
        ("approve", "NONE", None),
        ("approve", "KEPT", "ORG_KEPT"),
    ]

    async def before_the_step() -> None:
        engine = create_engine(database_url)
        try:
            async with writer(engine).begin() as conn:
                await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0010"))
                await conn.execute(
                    insert(cards_then),
                    [
                        {
                            "approval_id": a,
                            "kind": "order",
                            "state": "approved",
                            "order_details": o,
                            "registrant": r,
                            "updated_at": utcnow(),
                        }
                        for a, (o, r) in shown.items()
                    ],
                )
                await conn.execute(
                    insert(audit_then),
                    [
                        {
                            "slack_user_id": "U1",
                            "action": action,
                            "approval_id": a,
                            "outcome": "ok",
                            "organization_id": organization,
                            "at": utcnow(),
                        }
                        for action, a, organization in decided
                    ],
                )
        finally:
            await engine.dispose()

    async def body() -> None:
        await before_the_step()
        store = await Store.open(database_url)
        try:
            cards = {a: await store.get_card(a) for a in shown}
            assert {a: c.organization_id for a, c in cards.items() if c is not None} == {
                "BUYER": "ORG_BUYER",
                "ORDER": "ORG_ORDER",
                "UNREADABLE": None,
                "NONE": None,
            }
            named = {(e.action, e.approval_id): e.organization_id for e in await audit_entries(store)}
            assert named == {
                ("approve", "BUYER"): "ORG_BUYER",
                ("reject", "ORDER"): "ORG_ORDER",
                ("details", "ORDER"): None,  # not a decision
                ("approve", "UNREADABLE"): None,
                ("approve", "NONE"): None,
                ("approve", "KEPT"): "ORG_KEPT",
            }
        finally:
            await store.close()

    asyncio.run(body())


def test_a_done_decision_is_not_marked_unknown(database_url: str) -> None:
    async def body(store: Store) -> None:
        assert await claim_decision(store, "A1", "U1", "approve") is None
        await finish_decision(store, "A1")  # Commerce accepted; then the task is cancelled

        await store.mark_decision_unknown("A1", AuditEntry("U1", "approve", "A1", "unknown"))

        claim = await store.get_decision("A1")
        assert claim is not None and claim.state is DecisionState.DONE
        assert [e.outcome for e in await audit_entries(store, "A1")] == ["ok"]  # the decision's only

    with_store(database_url, body)


# ------------------------------------------------------------------------------------- audit


def test_audit_log_order_and_filters(database_url: str) -> None:
    async def body(store: Store) -> None:
        ids = [
            await store.record_audit(AuditEntry("U1", "approve", "A1", "ok", comment="fine")),
            await store.record_audit(AuditEntry("U2", "reject", "A2", "refused", detail="not an approver")),
            await store.record_audit(AuditEntry("U1", "approve", "A1", "already_in_progress")),
            await store.record_audit(AuditEntry("U3", "help", None, "ok")),
        ]
        assert ids == sorted(ids)
        assert len(set(ids)) == 4

        everything = await audit_entries(store)
        assert [e.id for e in everything] == ids[::-1]  # newest first

        a1 = await audit_entries(store, "A1")
        assert [(e.id, e.outcome) for e in a1] == [(ids[2], "already_in_progress"), (ids[0], "ok")]
        assert a1[1].comment == "fine"
        assert a1[1].detail is None
        for entry in everything:
            assert_utc(entry.at)

        refused = await audit_entries(store, "A2")
        assert [(e.slack_user_id, e.action, e.detail) for e in refused] == [
            ("U2", "reject", "not an approver")
        ]
        assert [e.id for e in await store.audit_report(since=everything[1].at)][-2:] == [ids[2], ids[3]]
        assert await audit_entries(store, "nope") == []

    with_store(database_url, body)


# ----------------------------------------------------------------------------------- watches


def test_watch_lifecycle(database_url: str) -> None:
    async def body(store: Store) -> None:
        assert await store.add_watch("P1", "C1", "U1") is True
        assert await store.add_watch("P1", "C1", "U2") is False  # already watched here
        assert await store.add_watch("P1", "C2", "U2") is True  # another channel
        assert await store.add_watch("P2", "C1", "U1") is True

        active = await active_watches(store)
        assert [(w.process_status_id, w.channel) for w in active] == [
            ("P1", "C1"),
            ("P1", "C2"),
            ("P2", "C1"),
        ]
        assert active[0].slack_user_id == "U1"
        assert (active[0].last_state, active[0].message_ts, active[0].finished_at) == (None, None, None)

        assert active[0].batch_id is not None
        ending = WatchEnding(active[0].batch_id, "P1", "C1", "SUCCESS")
        kind = Announced.PROCESS_STATUS.value
        assert await store.finish_watches([ending], announcement=kind) == {active[0].batch_id}
        assert await store.finish_watches([ending], announcement=kind) == set()  # one finisher announces
        assert await finish_watch(store, "P1", "C1", "SUCCESS") is False
        await store.record_watch_messages([(active[0].batch_id, "9.1")], announcement=kind)
        assert [(w.process_status_id, w.channel) for w in await active_watches(store)] == [
            ("P1", "C2"),
            ("P2", "C1"),
        ]
        finished = await get_watch(store, "P1", "C1")
        assert finished is not None
        assert (finished.last_state, finished.message_ts) == ("SUCCESS", "9.1")
        assert_utc(finished.finished_at)
        assert await store.remove_watch("P1", "C1") is False  # not active any more

        # a finished watch can be armed again, from scratch
        assert await store.add_watch("P1", "C1", "U9") is True
        rearmed = await get_watch(store, "P1", "C1")
        assert rearmed is not None
        assert (rearmed.slack_user_id, rearmed.last_state, rearmed.message_ts, rearmed.finished_at) == (
            "U9",
            None,
            None,
            None,
        )
        assert rearmed.created_at >= finished.created_at
        assert [(w.process_status_id, w.channel) for w in await active_watches(store)][-1] == ("P1", "C1")
        assert await store.add_watch("P1", "C1", "U1") is False

        assert await store.remove_watch("P1", "C2") is True
        assert await store.remove_watch("P1", "C2") is False
        assert await finish_watch(store, "P2", "C1", "FAILURE") is True
        assert [(w.process_status_id, w.channel) for w in await active_watches(store)] == [("P1", "C1")]

    with_store(database_url, body)


def test_active_processes_are_read_a_page_at_a_time_each_once_in_id_order(database_url: str) -> None:
    async def body(store: Store) -> None:
        for process_id, channel in [("P3", "C1"), ("P1", "C1"), ("P2", "C1"), ("P1", "C2"), ("P4", "C1")]:
            assert await store.add_watch(process_id, channel, "U1")
        await store.create_batch(["P2", "P5"], "C3", label=None, notify=Notify.FAILURES, requested_by="api")
        assert await finish_watch(store, "P4", "C1", "SUCCESS")

        async def every_page(*, batches: bool) -> list[list[tuple[str, str]]]:
            pages, after = [], None
            while page := await store.active_processes(after=after, limit=2, batches=batches):
                pages.append([(p.process_status_id, "batch" if p.member else "watch") for p in page])
                after = page[-1].key
            return pages

        everything = [row for page in await every_page(batches=True) for row in page]
        ids = [process_id for process_id, _ in everything]
        assert ids == sorted(ids)  # by id: the rows of one id come together
        watches = [("P1", "watch"), ("P1", "watch"), ("P2", "watch"), ("P3", "watch")]  # not P4: finished
        assert sorted(everything) == sorted([*watches, ("P2", "batch"), ("P5", "batch")])
        singles = await every_page(batches=False)
        assert [len(page) for page in singles] == [2, 2]
        assert all(kind == "watch" for page in singles for _, kind in page)

    with_store(database_url, body)


def test_concurrent_add_watch_arms_once(database_url: str) -> None:
    async def main() -> None:
        # Two bot processes (two replicas), each registered as the runtime registers it at start.
        first = await Store.open(database_url, replica="replica-a")
        second = await Store.open(database_url, replica="replica-b")
        await first.register_instance()
        await second.register_instance()
        try:
            results = await asyncio.gather(
                *((first if i % 2 else second).add_watch("P1", "C1", f"U{i}") for i in range(10))
            )
            assert results.count(True) == 1
            assert len(await active_watches(first)) == 1
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())


# ------------------------------------------------------------------------------ time and restart


def test_datetimes_are_aware_utc_and_keep_the_instant(database_url: str) -> None:
    async def body(store: Store) -> None:
        plus_two = timezone(timedelta(hours=2))
        when = datetime(2024, 3, 31, 1, 30, 15, 123456, tzinfo=plus_two)
        entry_id = await store.record_audit(AuditEntry("U1", "approve", "A1", "ok", at=when))
        [entry] = await audit_entries(store, "A1")
        assert entry.id == entry_id
        assert entry.at == when
        assert entry.at is not None
        assert entry.at.tzinfo == UTC
        assert entry.at.hour == 23  # stored and returned in UTC

        assert await store.claim_card("A1", "order")
        await store.card_posted("A1", "C1", "1.1")
        card = await store.get_card("A1")
        assert card is not None
        assert_utc(card.posted_at)
        assert_utc(card.updated_at)
        assert card.posted_at is not None
        assert abs(datetime.now(UTC) - card.posted_at) < timedelta(minutes=1)

        assert await store.add_watch("P1", "C1", "U1")
        [watch] = await active_watches(store)
        assert_utc(watch.created_at)

        with pytest.raises(StatementError, match="naive datetime"):
            await store.stale_posting_cards(datetime.now())

    with_store(database_url, body)


def test_state_survives_a_restart(database_url: str) -> None:
    async def before(store: Store) -> None:
        assert await store.claim_card("A1", "order")
        await store.card_posted("A1", "C1", "1.1")
        assert await claim_decision(store, "A1", "U1", "approve") is None
        await finish_decision(store, "A1")  # with its audit row
        assert await store.add_watch("P1", "C1", "U1")

    with_store(database_url, before)

    async def after(store: Store) -> None:
        assert await store.claim_card("A1", "order") is False
        card = await store.get_card("A1")
        assert card is not None and (card.state, card.ts) == (CardState.APPROVED, "1.1")
        claim = await claim_decision(store, "A1", "U2", "reject")
        assert claim is not None
        assert (claim.slack_user_id, claim.state) == ("U1", DecisionState.DONE)
        assert [(e.slack_user_id, e.outcome) for e in await audit_entries(store, "A1")] == [("U1", "ok")]
        assert [w.process_status_id for w in await active_watches(store)] == ["P1"]
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar() == 1

    with_store(database_url, after)


def test_release_decision_claimed_before_drops_only_old_in_progress_claims(database_url: str) -> None:
    async def body(store: Store) -> None:
        assert await claim_decision(store, "A1", "U1", "approve") is None
        assert await claim_decision(store, "A2", "U1", "approve") is None
        await age_decision_claim(store, "A1", timedelta(minutes=10))
        cutoff = datetime.now(UTC) - timedelta(minutes=5)

        assert await store.release_decision("A2", claimed_before=cutoff) is False  # fresh: kept
        assert await store.release_decision("A1", claimed_before=cutoff) is True
        assert await store.release_decision("A1", claimed_before=cutoff) is False  # already gone
        assert await claim_decision(store, "A1", "U2", "reject") is None

        await finish_decision(store, "A2")
        await age_decision_claim(store, "A2", timedelta(minutes=10))
        assert await store.release_decision("A2", claimed_before=cutoff) is False  # DONE claims stay

    with_store(database_url, body)


def test_a_claim_is_dead_when_its_answer_was_lost_or_its_owner_died(database_url: str) -> None:
    async def body(store: Store) -> None:
        await store.register_instance()
        other = await Store.open(database_url, replica="other")
        try:
            await other.register_instance()
            assert await claim_decision(other, "A1", "U1", "approve") is None
            assert await claim_decision(other, "A2", "U1", "approve") is None
            await other.mark_decision_unknown("A2", None)
        finally:
            await other.close()

        held = await claim_decision(store, "A1", "U2", "reject")  # the other process is alive
        assert held is not None and (held.slack_user_id, held.state) == ("U1", DecisionState.IN_PROGRESS)
        assert await store.decision_under_way("A1")
        assert await claim_decision(store, "A2", "U2", "reject") is None  # UNKNOWN: taken over

        await silence_instance(store, held.owner or "", timedelta(minutes=1))
        assert not await store.decision_under_way("A1")
        assert await claim_decision(store, "A1", "U2", "reject") is None  # its owner died: taken over
        claim = await store.get_decision("A1")
        assert claim is not None and (claim.slack_user_id, claim.owner) == ("U2", store.instance_id)

    with_store(database_url, body)


def test_settling_a_lost_decision_credits_the_user_in_one_transaction(database_url: str) -> None:
    async def body(store: Store) -> None:
        await store.register_instance()
        assert await store.claim_card("A1", "order")
        await store.card_posted("A1", "C1", "1.1")
        assert await claim_decision(store, "A1", "U2", "approve") is None
        await store.mark_decision_unknown("A1", AuditEntry("U2", "approve", "A1", "unknown"))

        settled = await store.settle_decision(
            "A1", "U1", "approve", CardState.APPROVED, AuditEntry("U1", "approve", "A1", "ok")
        )

        assert settled.first
        assert settled.card is not None and settled.card.state is CardState.APPROVED
        claim = await store.get_decision("A1")
        assert claim is not None and (claim.slack_user_id, claim.state) == ("U1", DecisionState.DONE)
        entries = await audit_entries(store, "A1")
        assert [(e.slack_user_id, e.outcome) for e in entries] == [("U1", "ok"), ("U2", "unknown")]

    with_store(database_url, body)


# ----------------------------------------------------------------------------- post attempts


def test_a_post_attempt_is_reconciled_when_unknown_or_its_owner_died_and_taken_once(
    database_url: str,
) -> None:
    async def body(store: Store) -> None:
        await store.register_instance()
        other = await Store.open(database_url, replica="other")
        try:
            await other.register_instance()
            await other.start_post("approval_card", "A1", "C1")  # posting, owner alive
            await other.start_post("approval_card", "A2", "C1")
            await other.post_outcome_unknown("approval_card", "A2")  # no answer: anyone may look it up
            await store.start_post("batch_card", "B1", "C2")  # this process, posting right now
        finally:
            await other.close()
        later = datetime.now(UTC) + timedelta(seconds=1)
        long_ago = later - timedelta(hours=1)

        async def due_by(
            started_before: datetime, limit: int = 10, own: datetime = long_ago
        ) -> list[PostAttempt]:
            return await store.posts_to_reconcile(
                started_before=started_before, own_started_before=own, limit=limit
            )

        due = await due_by(later)
        assert [(a.subject_id, a.state) for a in due] == [("A2", PostState.UNKNOWN)]
        assert await due_by(due[0].started_at) == []

        a1 = await post_attempt(store, "approval_card", "A1")
        assert a1 is not None
        await silence_instance(store, a1.owner, timedelta(minutes=1))  # kill -9: it stopped beating
        due = await due_by(later, limit=1)
        assert [a.subject_id for a in due] == ["A1"]  # oldest first, bounded

        assert await store.take_post(due[0])
        assert not await store.take_post(due[0])  # one taker
        taken = await post_attempt(store, "approval_card", "A1")
        assert taken is not None and (taken.owner, taken.state) == (store.instance_id, PostState.POSTING)
        assert [a.subject_id for a in await due_by(later)] == ["A2"]
        # This process's own attempts left POSTING (a reconcile cut off, an outcome never recorded)
        # come back once older than the stuck limit, its own post in flight (B1) too if that old.
        assert [a.subject_id for a in await due_by(later, own=later)] == ["A1", "A2", "B1"]
        await store.end_post("approval_card", "A1")
        assert await post_attempt(store, "approval_card", "A1") is None

    with_store(database_url, body)


def test_a_card_claim_with_a_post_attempt_is_never_released_as_stale(database_url: str) -> None:
    async def body(store: Store) -> None:
        await store.register_instance()
        assert await store.claim_card("A1", "order")
        assert await store.claim_card("A2", "order")
        await store.start_post("approval_card", "A2", "C1")
        await store.post_outcome_unknown("approval_card", "A2")
        stale = await store.stale_posting_cards(datetime.now(UTC) + timedelta(hours=1))
        assert [c.approval_id for c in stale] == ["A1"]  # A2 may be in Slack: it is looked up instead

    with_store(database_url, body)


def test_overlapping_batches_at_once_watch_each_process_once_per_channel(database_url: str) -> None:
    async def main() -> None:
        first = await Store.open(database_url, replica="replica-a")
        second = await Store.open(database_url, replica="replica-b")
        try:
            ids = [str(40_000 + i) for i in range(1_200)]
            made = await asyncio.gather(
                *(
                    (first if n % 2 else second).create_batch(
                        ids[n * 100 : n * 100 + 600], "C1", label=None, notify=Notify.ALL, requested_by="api"
                    )
                    for n in range(7)
                )
            )
            assert sum(batch.new for batch in made) == 1_200
            members = await active_batch_members(first)
            assert sorted(m.process_status_id for m in members) == ids

            again = await first.create_batch(ids[:3], "C1", label=None, notify=Notify.ALL, requested_by="api")
            owner = next(m.batch_id for m in members if m.process_status_id == ids[0])
            assert (again.batch_id, again.new, again.created) == (owner, 0, False)
            elsewhere = await first.create_batch(
                ids[:3], "C2", label=None, notify=Notify.ALL, requested_by="api"
            )
            assert (elsewhere.new, elsewhere.created) == (3, True)
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())
