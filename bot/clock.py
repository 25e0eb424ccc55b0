"""The time every part reads as now: one ``Clock`` type and the real clock, ``utcnow``.

A leaf below everything that keeps or compares times (the store, the pollers, the digest), so each
takes a ``Clock`` and tests hand in their own (``tests/clock.py``); every time here is aware (UTC).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC)."""


def utcnow() -> datetime:
    return datetime.now(UTC)
