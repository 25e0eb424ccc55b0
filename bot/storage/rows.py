"""What every per-table part of the ``Store`` shares: the engine, the write path and the clock."""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.clock import Clock

if TYPE_CHECKING:
    from bot.storage.transactions import Transactions

CLAIM_ATTEMPTS = 5
"""A row that vanishes between a failed INSERT and the follow-up read (released by its owner) is retried."""

IN_LIST_CHUNK = 500
"""Bound on the ids in one ``IN (...)`` list (SQLite caps bound parameters per statement)."""


def storable(text: str | None) -> str | None:
    """``text`` without the characters PostgreSQL refuses in text columns (NUL); SQLite keeps the same."""
    return None if text is None else text.replace("\x00", "")


def fitted(text: str | None, column: Column[Any]) -> str | None:
    """``text`` cut to the length of ``column`` (a ``String(n)``); None for an empty or missing one."""
    length = getattr(column.type, "length", None)
    return (text or None) and text[:length]


def insert_unless_present(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERTs one row unless its key is taken: whether it went in. The database decides
    (``ON CONFLICT DO NOTHING``), so of two writers at once exactly one gets True, and the transaction
    goes on either way (a failed INSERT would end it on PostgreSQL)."""
    statement = _insert_unless_present(conn.dialect.name, table)
    return conn.execute(statement, values).first() is not None  # rowcount: -1 here on psycopg


@functools.cache
def _insert_unless_present(dialect_name: str, table: Table) -> Insert:
    """Built once per table (its VALUES come from the parameters), so its compiled form is reused."""
    insert_of = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    key = next(iter(table.primary_key.columns))
    statement: Insert = insert_of(table).on_conflict_do_nothing().returning(key)
    return statement


class Writer:
    """Where every write transaction begins.

    On SQLite, one writer at a time per process: writers queue on an asyncio lock instead of
    fighting in SQLite's busy handler (which sleeps and retries), and a decision's claim (``first``)
    goes before writes that nobody is waiting on yet, such as the records of decisions already sent.
    On PostgreSQL, straight to the pool.
    """

    def __init__(self, engine: AsyncEngine, *, one_at_a_time: bool) -> None:
        self._engine = engine
        self._turns = Turns() if one_at_a_time else None

    @asynccontextmanager
    async def begin(self, *, first: bool = False) -> AsyncIterator[AsyncConnection]:
        async with self.turn(first=first), self._engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def turn(self, *, first: bool = False) -> AsyncIterator[None]:
        """This process's turn to write, for a write that begins its transaction elsewhere (see
        :mod:`bot.storage.transactions`); on PostgreSQL at once."""
        if self._turns is None:
            yield
            return
        async with self._turns.held(first=first):
            yield


class Turns:
    """An asyncio lock whose waiters asking to go ``first`` get it before the others (each kind in the
    order it came). A waiter cancelled after it was handed the lock hands it on."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())

    @asynccontextmanager
    async def held(self, *, first: bool = False) -> AsyncIterator[None]:
        await self._acquire(first)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, first: bool) -> None:
        if not self._held and not any(self._waiting):
            self._held = True
            return
        turn = asyncio.get_running_loop().create_future()
        queue = self._waiting[0 if first else 1]
        queue.append(turn)
        try:
            await turn  # resolved by _release, which hands the lock over (it stays held)
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed over, then cancelled: pass it on
            elif turn in queue:
                queue.remove(turn)
            raise

    def _release(self) -> None:
        for queue in self._waiting:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False


class Rows:
    """Base of the per-table mixins; ``Store`` sets these attributes."""

    _engine: AsyncEngine
    _writer: Writer
    _transactions: Transactions
    """For transactions on a hot path: each runs whole, in one hand-over to SQLite's thread."""
    _clock: Clock
