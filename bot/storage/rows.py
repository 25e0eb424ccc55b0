"""What every per-table part of the ``Store`` shares: the engine, the write path and the clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC)."""

CLAIM_ATTEMPTS = 5
"""A row that vanishes between a failed INSERT and the follow-up read (released by its owner) is retried."""

IN_LIST_CHUNK = 500
"""Bound on the ids in one ``IN (...)`` list (SQLite caps bound parameters per statement)."""


def storable(text: str | None) -> str | None:
    """``text`` without the characters PostgreSQL refuses in text columns (NUL); SQLite keeps the same."""
    return None if text is None else text.replace("\x00", "")


class Writer:
    """Where every write transaction begins.

    On SQLite, one writer at a time per process: writers queue on an asyncio lock instead of
    fighting in SQLite's busy handler (which sleeps and retries). On PostgreSQL, straight to the pool.
    """

    def __init__(self, engine: AsyncEngine, *, one_at_a_time: bool) -> None:
        self._engine = engine
        self._lock = asyncio.Lock() if one_at_a_time else None

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        if self._lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._lock, self._engine.begin() as conn:
            yield conn


class Rows:
    """Base of the per-table mixins; ``Store`` sets these attributes."""

    _engine: AsyncEngine
    _writer: Writer
    _clock: Clock
