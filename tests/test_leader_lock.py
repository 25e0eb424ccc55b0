"""The poller lock on a real PostgreSQL: one holder at a time; a holder that goes away lets the next in.

A cut-off holder gives the lock up itself (its check times out) before the server ends its session
and another replica can take it: the two never poll at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.storage.leader_lock import PostgresLeaderLock, libpq_url
from tests.tcp_proxy import PartitionableProxy

TIMEOUT_SECONDS = 0.5
IDLE_SESSION_TIMEOUT_SECONDS = 3.0


def lock_for(url: str, replica_id: str) -> PostgresLeaderLock:
    return PostgresLeaderLock(
        url,
        replica_id=replica_id,
        timeout_seconds=TIMEOUT_SECONDS,
        idle_session_timeout_seconds=IDLE_SESSION_TIMEOUT_SECONDS,
    )


@pytest.fixture
def proxy(fresh_postgres_url: str) -> Iterator[PartitionableProxy]:
    url = make_url(fresh_postgres_url)
    assert url.host is not None and url.port is not None
    proxy = PartitionableProxy(url.host, url.port)
    yield proxy
    proxy.close()


async def eventually(probe: Callable[[], Awaitable[bool]], *, timeout: float = 15.0) -> bool:
    """``True`` once ``probe()`` is; ``False`` if it is not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def holder(url: str) -> str | None:
    """The application_name of the session holding an advisory lock, if any."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted"
        ).fetchone()
    return None if row is None else str(row[0])


def test_one_replica_holds_the_lock_until_it_lets_go(fresh_postgres_url: str) -> None:
    async def scenario() -> None:
        first, second = lock_for(fresh_postgres_url, "first"), lock_for(fresh_postgres_url, "second")
        try:
            assert await first.hold()
            assert await first.hold()  # confirmed, not taken twice
            assert not await second.hold()
            assert await asyncio.to_thread(holder, fresh_postgres_url) == "approvals-bot first"

            await first.close()  # the server ends the session (and frees the lock) right after
            assert await eventually(second.hold)
            assert not await first.hold()
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())


def test_the_lock_accepts_the_urls_the_settings_accept() -> None:
    assert libpq_url("postgresql+psycopg://bot:s%40cret@db:5432/bot?sslmode=require") == (
        "postgresql://bot:s%40cret@db:5432/bot?sslmode=require"
    )
    assert libpq_url("postgres://bot@db/bot") == "postgresql://bot@db/bot"


def test_a_holder_cut_off_from_postgresql_gives_up_before_another_takes_over(
    fresh_postgres_url: str, proxy: PartitionableProxy
) -> None:
    through_proxy = make_url(fresh_postgres_url).set(port=proxy.port).render_as_string(hide_password=False)

    async def scenario() -> None:
        cut_off, other = lock_for(through_proxy, "cut-off"), lock_for(fresh_postgres_url, "other")
        try:
            assert await cut_off.hold()
            assert not await other.hold()

            proxy.partition()
            assert not await cut_off.hold()  # the check times out: the role is given up now
            # The server still has the cut-off session, and the lock with it, until its idle timeout.
            assert not await other.hold()
            assert await eventually(other.hold, timeout=10 * IDLE_SESSION_TIMEOUT_SECONDS)
            assert not await cut_off.hold()
        finally:
            await cut_off.close()
            await other.close()

    asyncio.run(scenario())
