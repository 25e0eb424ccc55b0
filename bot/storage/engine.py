"""The engine: one SQLAlchemy Core code path for SQLite and PostgreSQL.

* :func:`to_async_url` turns the configured ``DATABASE_URL`` into an async driver URL.
* :func:`create_engine` builds a pooled :class:`AsyncEngine`; for SQLite it creates the file's parent
  folder, enables WAL and a busy timeout on every connection and lets SQLAlchemy (not the ``sqlite3``
  module) emit ``BEGIN``, so DDL is transactional and writers can take the lock up front.
* :func:`writer` is the same engine whose SQLite transactions take the write lock at ``BEGIN``.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage.closed_connections import discard_closed_connections
from bot.storage.sqlite_files import ensure_sqlite_parent

SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_POOL_TIMEOUT_SECONDS = 30.0
KEEPALIVE_IDLE_SECONDS = 30
KEEPALIVE_INTERVAL_SECONDS = 10
KEEPALIVE_COUNT = 3
# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN_OPTION = "approvals_bot_sqlite_begin"

_SYNC_TO_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
}


def to_async_url(database_url: str) -> str:
    """``sqlite:///x.db`` -> ``sqlite+aiosqlite:///x.db``, ``postgres(ql)://`` -> ``postgresql+psycopg://``.

    URLs that already name an async driver (or one this function doesn't know) are returned untouched;
    only the scheme is rewritten, so the rest of the URL (and any escaping in it) is kept byte for byte.
    """
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        return database_url
    replacement = _SYNC_TO_ASYNC_DRIVERS.get(scheme.lower())
    return f"{replacement}://{rest}" if replacement else database_url


def safe_url(database_url: str) -> str:
    """The URL with its password masked, for logs and error messages."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://[^@/]*@", "://***@", database_url)


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool), but SQLite transactions begin with ``BEGIN IMMEDIATE``.

    Taking the write lock at BEGIN means a writer waits (busy_timeout) instead of failing when it would
    have to upgrade a read lock. PostgreSQL ignores the option.
    """
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def _enable_wal(cursor: Any) -> None:
    """Switches the file to WAL mode (a no-op once it is WAL).

    The switch needs a lock that busy_timeout does not wait for: when two processes open a new
    database at once, one gets "database is locked" straight away, so it tries again, within the
    busy timeout. Only a brand-new file ever waits here.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def install_sqlite_hooks(engine: Engine, *, file_backed: bool) -> None:
    """Every new connection waits for locks (busy timeout) and, on a file, is in WAL mode; SQLAlchemy
    emits BEGIN itself, of the kind the ``SQLITE_BEGIN_OPTION`` execution option asks for."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN (see _on_begin) instead of the sqlite3 module's legacy behaviour,
        # which skips BEGIN before DDL and SELECT.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if file_backed:
                _enable_wal(cursor)
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def create_engine(database_url: str, *, time_limit_seconds: float | None = None) -> AsyncEngine:
    """A pooled async engine for ``database_url`` (sync-style URLs are accepted, see :func:`to_async_url`).

    For PostgreSQL, ``time_limit_seconds`` bounds connecting and waiting for a pooled connection, and
    TCP keepalives find connections whose peer has vanished (a peer that is there but silent is
    the store's time limit's job: see :mod:`bot.storage.time_limit`).
    """
    url = make_url(to_async_url(database_url))
    if url.get_backend_name() == "sqlite":
        ensure_sqlite_parent(url)
        file_backed = bool(url.database) and url.database != ":memory:"
        # No rollback when a connection goes back to the pool: every transaction here is begun and
        # ended by SQLAlchemy (a connection closed inside one rolls it back itself), so the pool's
        # own reset would be a second, empty ROLLBACK: a round trip to aiosqlite's thread per call.
        engine = create_async_engine(url, pool_reset_on_return=None)
        install_sqlite_hooks(engine.sync_engine, file_backed=file_backed)
        return engine
    seconds = time_limit_seconds or DEFAULT_POOL_TIMEOUT_SECONDS
    engine = create_async_engine(
        url,
        connect_args={
            "connect_timeout": max(2, math.ceil(seconds)),  # libpq's minimum is 2 s
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
            "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
            "keepalives_count": KEEPALIVE_COUNT,
        },
        pool_timeout=seconds,
        pool_size=5,
        max_overflow=10,
        # No pre-ping (a round trip on every checkout): a connection the server closed is seen on its
        # socket as it leaves the pool, and recycling keeps idle ones from going stale.
        pool_recycle=300,
    )
    discard_closed_connections(engine.sync_engine)
    return engine
