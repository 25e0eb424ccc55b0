"""Failed authentications of the ingest API, counted per client address: logged, and throttled.

An address with ``FAILURES_LIMIT`` failed authentications inside ``WINDOW`` gets 429 with
``Retry-After`` on every API request until its window ends, before any token is compared. One
WARNING line per address and window (its first failure), one when it is throttled; never the token.
The client address is the TCP peer's: behind a proxy, every client shares the proxy's address.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

FAILURES_LIMIT = 10
WINDOW = timedelta(minutes=1)
MAX_ADDRESSES = 10_000
"""Addresses remembered at once; the oldest windows are forgotten first (bounded memory under a flood)."""


@dataclass
class _Window:
    started: datetime
    failures: int = 0


class AuthThrottle:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or ``None`` when it is not throttled."""
        window = self._current(address)
        if window is None or window.failures < FAILURES_LIMIT:
            return None
        left = (window.started + WINDOW - self._clock()).total_seconds()
        return max(1, math.ceil(left))

    def failed(self, address: str) -> None:
        """Counts one failed authentication from ``address``."""
        window = self._current(address)
        if window is None:
            self._forget_oldest()
            window = self._windows[address] = _Window(self._clock())
            log.warning("ingest API: failed authentication from %s (HTTP 401)", address)
        window.failures += 1
        if window.failures == FAILURES_LIMIT:
            log.warning(
                "ingest API: %d failed authentications from %s within %d s: throttled (HTTP 429)",
                FAILURES_LIMIT,
                address,
                WINDOW.total_seconds(),
            )

    def _current(self, address: str) -> _Window | None:
        window = self._windows.get(address)
        if window is not None and self._clock() - window.started >= WINDOW:
            del self._windows[address]
            return None
        return window

    def _forget_oldest(self) -> None:
        now = self._clock()
        for address in [a for a, w in self._windows.items() if now - w.started >= WINDOW]:
            del self._windows[address]
        while len(self._windows) >= MAX_ADDRESSES:
            del self._windows[next(iter(self._windows))]
