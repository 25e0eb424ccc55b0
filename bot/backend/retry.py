"""Retries for backend reads: exponential backoff plus random jitter, on "unavailable" errors only.

Invariant: only reads come through here. A write (the Commerce decision POST) or a login is sent
once whatever happens: callers keep them out of :func:`retry_reads`. Only the error type the
caller names as "unavailable" (timeouts, connection errors, 5xx) is retried; any other error and
the last unavailable one propagate unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from bot.backend.errors import BackendError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class ReadRetry:
    """How often and how long to retry a read.

    The wait before retry ``n`` (1-based) is ``backoff_seconds * 2 ** (n - 1)`` plus a random
    ``0..jitter_seconds`` (so clients that failed together do not come back together), at most
    ``max_backoff_seconds``. ``sleep`` does the waiting; tests pass one that records and returns.
    """

    attempts: int = 3
    backoff_seconds: float = 0.5
    jitter_seconds: float = 0.25
    max_backoff_seconds: float = MAX_BACKOFF_SECONDS
    sleep: Sleep = asyncio.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("read attempts must be at least 1")
        if min(self.backoff_seconds, self.jitter_seconds, self.max_backoff_seconds) < 0:
            raise ValueError("backoff, jitter and max backoff must not be negative")


async def retry_reads(
    read: Callable[[], Awaitable[T]], policy: ReadRetry, *, on: type[BackendError], what: str
) -> T:
    """``await read()``, again after a wait while it raises ``on``, at most ``policy.attempts`` times.

    Returns the first result; raises the last ``on`` error once the attempts are used up, and any
    other exception at once. ``what`` names the read in debug logs (``GET /path``).
    """
    retrying = tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=tenacity.wait_exponential(multiplier=policy.backoff_seconds, max=policy.max_backoff_seconds)
        + tenacity.wait_random(0, policy.jitter_seconds),
        retry=tenacity.retry_if_exception_type(on),
        sleep=policy.sleep,
        before_sleep=_retry_logger(what, policy.attempts),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await read()
    raise AssertionError("unreachable")  # pragma: no cover - reraise=True raises the last error


def _retry_logger(what: str, attempts: int) -> Callable[[tenacity.RetryCallState], None]:
    def log_retry(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        message = error.message if isinstance(error, BackendError) else type(error).__name__
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.debug(
            "%s failed (attempt %d/%d): %s; retrying in %.2fs",
            what,
            state.attempt_number,
            attempts,
            message,
            wait,
        )

    return log_retry
