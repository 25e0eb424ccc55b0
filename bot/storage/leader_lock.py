"""Which replica runs the pollers: a PostgreSQL session advisory lock on a dedicated connection.

The lock lives exactly as long as the database session that took it. A replica that dies (kill -9,
OOM) closes its socket and the server frees the lock at once; one cut off from the database stops
sending heartbeats and the server ends its session after ``idle_session_timeout``, which frees the
lock too. The replica itself gives the role up as soon as a heartbeat fails or does not come back
within ``timeout_seconds``, which is sooner than the server frees the lock: two replicas never hold
it at once. With SQLite there is one replica, and it always holds the role.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import make_url

from bot.storage.engine import safe_url

if TYPE_CHECKING:
    import psycopg  # imported where used: a bot on SQLite never loads the PostgreSQL driver

log = logging.getLogger(__name__)

# Any fixed 64-bit key works; it only has to be the same in every replica of this bot (and differ
# from the migration lock's key).
POLLER_LOCK_KEY = 0x706F_6C6C_6572_7321  # "pollers!"
APPLICATION_NAME_LIMIT = 63  # PostgreSQL truncates application_name beyond this

_TRY_LOCK = "SELECT pg_try_advisory_lock(%(key)s)"
# A session advisory lock on a bigint key shows in pg_locks as (classid, objid) = (high, low) 32 bits
# with objsubid 1.
_STILL_HELD = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
      AND classid = %(high)s AND objid = %(low)s AND objsubid = 1
)
"""


class LeaderLock(Protocol):
    async def hold(self) -> bool:
        """True while this replica holds the lock: takes it when it is free, confirms it when held.

        False when another replica holds it or the database cannot be reached in time.
        """
        ...

    async def close(self) -> None:
        """Gives the lock up (if held) and closes the connection."""
        ...


class SoleReplica:
    """SQLite: one replica, which always runs the pollers."""

    async def hold(self) -> bool:
        return True

    async def close(self) -> None:
        return None


def libpq_url(database_url: str) -> str:
    """The configured URL as libpq reads it (``postgresql://``, whatever SQLAlchemy driver it named)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _split_key(key: int) -> dict[str, int]:
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}


class PostgresLeaderLock:
    """``pg_try_advisory_lock`` on a connection of its own (autocommit, outside the store's pool).

    ``timeout_seconds`` bounds every connect and heartbeat. ``idle_session_timeout_seconds`` is what
    the server allows between two heartbeats before it ends the session (and frees the lock): it must
    be longer than the caller's pause between two ``hold()`` calls plus ``timeout_seconds``.
    """

    def __init__(
        self,
        database_url: str,
        *,
        replica_id: str,
        timeout_seconds: float,
        idle_session_timeout_seconds: float,
        key: int = POLLER_LOCK_KEY,
    ) -> None:
        self._url = libpq_url(database_url)
        self._replica_id = replica_id
        self._timeout_seconds = timeout_seconds
        self._idle_session_timeout_ms = max(1, round(idle_session_timeout_seconds * 1000))
        self._key = key
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._held = False
        self._unreachable = False
        self._abandoned: set[asyncio.Task[bool]] = set()

    async def hold(self) -> bool:
        attempt = asyncio.create_task(self._hold())
        done, _ = await asyncio.wait({attempt}, timeout=self._timeout_seconds)
        if attempt not in done:
            # Not awaited: psycopg may spend a while trying to cancel the query on a server it cannot
            # reach. The attempt closes its connection when it ends; the role is given up now.
            attempt.cancel()
            self._abandoned.add(attempt)
            attempt.add_done_callback(self._abandoned.discard)
            self._conn = None
            self._lost(f"no answer within {self._timeout_seconds:g}s")
            return False
        import psycopg

        try:
            return attempt.result()
        except (psycopg.Error, OSError) as error:
            self._lost(f"{type(error).__name__}: {error}")
            return False

    async def _hold(self) -> bool:
        conn = self._conn
        try:
            if conn is None:
                conn = self._conn = await self._connect()
            if self._held:
                row = await (await conn.execute(_STILL_HELD, _split_key(self._key))).fetchone()
            else:
                row = await (await conn.execute(_TRY_LOCK, {"key": self._key})).fetchone()
        except BaseException:
            if conn is not None:
                await _close_quietly(conn)
            if self._conn is conn:
                self._conn = None
            raise
        held = bool(row and row[0])
        if self._unreachable:
            log.info("database reachable again for the poller lock")
            self._unreachable = False
        self._held = held
        return held

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        import psycopg

        return await psycopg.AsyncConnection.connect(
            self._url,
            autocommit=True,
            connect_timeout=max(2, round(self._timeout_seconds)),  # libpq's minimum is 2 s
            application_name=f"approvals-bot {self._replica_id}"[:APPLICATION_NAME_LIMIT],
            options=f"-c idle_session_timeout={self._idle_session_timeout_ms}",
        )

    def _lost(self, why: str) -> None:
        """The connection is gone (and the lock with it, or soon); one WARNING per outage."""
        self._held = False
        if not self._unreachable:
            log.warning("cannot reach the database %s for the poller lock: %s", safe_url(self._url), why)
            self._unreachable = True

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        self._held = False
        if conn is not None:
            await _close_quietly(conn)  # ending the session frees the lock
        for attempt in list(self._abandoned):
            attempt.cancel()


async def _close_quietly(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
    import psycopg

    try:
        await conn.close()
    except (psycopg.Error, OSError) as error:
        log.debug("closing the poller lock connection: %s", error)
