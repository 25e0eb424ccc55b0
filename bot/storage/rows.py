"""What every per-table part of the ``Store`` shares: the engine, the write path and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC)."""

CLAIM_ATTEMPTS = 5
"""A row that vanishes between a failed INSERT and the follow-up read (released by its owner) is retried."""

IN_LIST_CHUNK = 500
"""Bound on the ids in one ``IN (...)`` list (SQLite caps bound parameters per statement)."""


class Rows:
    """Base of the per-table mixins; ``Store`` sets these attributes."""

    _engine: AsyncEngine
    _writer: AsyncEngine
    _clock: Clock
