"""Work handed off after Slack was acked: tracked, bounded, and drained on shutdown.

At most ``running_limit`` pieces of work run at once; up to ``waiting_limit`` more wait for a slot.
Beyond that ``start`` refuses (the caller tells the user the bot is busy) instead of queueing
without limit. The server's shutdown drain waits for accepted work, as for every task still in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

BUSY_MESSAGE = "The bot is busy right now; try again in a few seconds."


class BackgroundWork:
    def __init__(self, *, running_limit: int = 16, waiting_limit: int = 64) -> None:
        if running_limit < 1 or waiting_limit < 0:
            raise ValueError("running_limit must be at least 1 and waiting_limit not negative")
        self._slots = asyncio.Semaphore(running_limit)
        self._capacity = running_limit + waiting_limit
        self._tasks: set[asyncio.Task[None]] = set()

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
            log.warning("busy: refused %s (%d pieces of work in progress)", name, len(self._tasks))
            return False
        task = asyncio.create_task(self._run(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run(self, work: Coroutine[Any, Any, None], name: str) -> None:
        async with self._slots:
            try:
                await work
            except Exception:
                # Listeners answer their own errors; this is the last resort, never silent.
                log.exception("unhandled error in %s", name)
