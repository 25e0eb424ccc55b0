"""Pacing by bol.com's ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` headers, one pacer per process.

When an answer says the budget is spent (remaining 0), every later call waits until the reset
(``X-RateLimit-Reset`` seconds, bounded) instead of running into 429s. 429 + ``Retry-After`` is still
handled by the client; this only avoids asking when bol.com has already said no.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

DEFAULT_MAX_WAIT_SECONDS = 60.0


class RateLimitPacer:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait_seconds
        self._resume_at: float | None = None

    async def wait(self) -> None:
        """Waits until bol.com's budget is back, if an earlier answer said it was spent."""
        if self._resume_at is None:
            return
        delay = min(self._resume_at - self._clock(), self._max_wait)
        if delay > 0:
            await self._sleep(delay)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Reads the rate-limit headers of an answer (absent or unreadable headers change nothing)."""
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        if remaining is None:
            return
        if remaining > 0:
            self._resume_at = None
            return
        reset = _number(headers.get("X-RateLimit-Reset"))
        self._resume_at = self._clock() + min(max(reset or 1.0, 0.0), self._max_wait)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
