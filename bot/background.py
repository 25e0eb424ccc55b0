"""Work handed off after Slack was acked: tracked, bounded, and drained on shutdown.

At most ``running_limit`` pieces of work run at once; up to ``waiting_limit`` more wait for a slot.
Beyond that ``start`` refuses (the caller tells the user the bot is busy) instead of queueing
without limit. The server's shutdown drain waits for accepted work, as for every task still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

BUSY_MESSAGE = "The bot is busy right now; try again in a few seconds."
BUSY_LOG_EVERY_SECONDS = 10.0
"""Under a burst every refusal would log a line: one line this often says how many there were."""


class BackgroundWork:
    def __init__(
        self,
        *,
        running_limit: int = 16,
        waiting_limit: int = 64,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if running_limit < 1 or waiting_limit < 0:
            raise ValueError("running_limit must be at least 1 and waiting_limit not negative")
        self._slots = asyncio.Semaphore(running_limit)
        self._capacity = running_limit + waiting_limit
        self._tasks: set[asyncio.Task[None]] = set()
        self._monotonic = monotonic
        self._refused = 0  # since the last busy line
        self._next_busy_line = float("-inf")

    def __len__(self) -> int:
        """Work accepted and not finished yet (running or waiting)."""
        return len(self._tasks)

    @property
    def has_room(self) -> bool:
        return len(self._tasks) < self._capacity

    def start(self, work: Coroutine[Any, Any, None], *, name: str) -> bool:
        """Runs ``work`` when a slot is free; False (and ``work`` is closed, never run) when full."""
        if not self.has_room:
            work.close()
            self.refused(name)
            return False
        task = asyncio.create_task(self._run(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def refused(self, name: str) -> None:
        """Notes work turned away for want of room (here, or before it was even parsed): one WARNING
        line at most every ``BUSY_LOG_EVERY_SECONDS``, counting the refusals since the last one."""
        self._refused += 1
        now = self._monotonic()
        if now < self._next_busy_line:
            return
        log.warning(
            "busy: refused %d requests (the latest %s; %d pieces of work in progress)",
            self._refused,
            name,
            len(self._tasks),
        )
        self._refused = 0
        self._next_busy_line = now + BUSY_LOG_EVERY_SECONDS

    async def _run(self, work: Coroutine[Any, Any, None], name: str) -> None:
        async with self._slots:
            try:
                await work
            except Exception:
                # Listeners answer their own errors; this is the last resort, never silent.
                log.exception("unhandled error in %s", name)
