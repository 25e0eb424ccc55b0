"""Transactions run whole: a unit of work is a function of a synchronous connection, run at once.

On a SQLite file, the function runs in a worker thread on a ``pysqlite`` connection of a synchronous
engine opened on the same file, BEGIN and COMMIT included: one hand-over to a thread per
transaction, where aiosqlite makes about three per statement (cursor, execute, fetch) and each
costs a wake-up of the event loop. Writes take the same in-process turns as every other write of
the store (:class:`~bot.storage.rows.Writer`), so SQLite still sees one writer at a time from this
process, and a decision's claim still goes first.

On PostgreSQL (and an in-memory SQLite database, which a second engine could not share) the
function runs on the async engine through ``run_sync``: there each statement is a round trip to the
server anyway.

On PostgreSQL a transaction that is one statement can also go over the wire alone
(:meth:`Transactions.alone`): in autocommit mode the statement is its own transaction, so there is
no BEGIN and no COMMIT to wait for, one round trip in all. The click's claim and record are folded
into such statements (CTEs) there.

Invariant: a function given to :meth:`Transactions.read` or :meth:`Transactions.write` runs inside
exactly one transaction, which commits when it returns and rolls back when it raises; it must not
commit, and returns plain values (fetched rows, records), never a ``Result`` still tied to its cursor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Row
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import SQLITE_BEGIN_OPTION, install_sqlite_hooks
from bot.storage.rows import Writer
from bot.storage.sqlite_files import sqlite_file

T = TypeVar("T")

Work = Callable[[Connection], T]
"""A transaction's statements, run on one connection inside one transaction."""

SQLITE_THREADS = 4
"""Worker threads for SQLite transactions: reads run beside the one write of the moment."""


class Transactions:
    def __init__(self, engine: AsyncEngine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        path = sqlite_file(engine.url)
        self._file = None if path is None else _SqliteFile(engine)
        self.one_round_trip = engine.dialect.name == "postgresql"
        """Whether :meth:`alone` may be used (PostgreSQL)."""
        self._autocommit = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if self.one_round_trip else None
        )

    async def select(self, statement: Executable) -> list[Row[Any]]:
        """The rows of one read: on PostgreSQL alone (one round trip, no BEGIN nor ROLLBACK), else on a
        connection of the async engine."""
        if self._autocommit is not None:
            return await self.alone(statement, {})
        async with self._engine.connect() as conn:
            return list((await conn.execute(statement)).all())

    async def alone(self, statement: Executable, parameters: dict[str, Any]) -> list[Row[Any]]:
        """The rows of one statement that is a whole transaction, sent as one round trip: no BEGIN,
        no COMMIT (autocommit). Only where ``one_round_trip``; on SQLite, use :meth:`read` or
        :meth:`write`, whose turns and ``BEGIN IMMEDIATE`` it would skip."""
        assert self._autocommit is not None, "one statement alone is for PostgreSQL"
        async with self._autocommit.connect() as conn:
            return list((await conn.execute(statement, parameters)).all())

    async def read(self, work: Work[T]) -> T:
        """``work``'s result, run in a transaction that only reads (one snapshot)."""
        if self._file is None:
            async with self._engine.connect() as conn:
                return await conn.run_sync(work)
        return await self._file.run(self._file.reader, work)

    async def write(self, work: Work[T], *, first: bool = False) -> T:
        """``work``'s result, run in a write transaction (SQLite: ``BEGIN IMMEDIATE``, on this
        process's turn; ``first`` as for :meth:`Writer.begin`)."""
        if self._file is None:
            async with self._writer.begin(first=first) as conn:
                return await conn.run_sync(work)
        async with self._writer.turn(first=first):
            return await self._file.run(self._file.writer, work)

    def close(self) -> None:
        """Lets running transactions finish, then closes the synchronous engine's connections."""
        if self._file is not None:
            self._file.close()


class _SqliteFile:
    """A synchronous engine on the async engine's SQLite file, and the threads that run its
    transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sync = create_sync_engine(
            engine.url.set(drivername="sqlite+pysqlite"), pool_reset_on_return=None
        )
        install_sqlite_hooks(self._sync, file_backed=True)
        self.reader = self._sync.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        self.writer = self._sync.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._threads = ThreadPoolExecutor(SQLITE_THREADS, thread_name_prefix="sqlite-transaction")

    async def run(self, engine: Engine, work: Work[T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, _in_transaction, engine, work)

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._sync.dispose()


def _in_transaction(engine: Engine, work: Work[T]) -> T:
    with engine.begin() as conn:
        return work(conn)
