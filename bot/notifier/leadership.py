"""Runs the pollers on one replica at a time: the one that holds the leader lock.

Every replica serves Slack; only the lock holder polls. The lock is checked every ``check_seconds``:
a replica that takes it starts every poller at once (a round straight away); one that loses it
(database gone, connection cut) cancels its pollers at that check, before another replica can take
the lock (see ``bot/storage/leader_lock.py``). The pollers themselves know nothing of this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress

from bot.metrics import Metrics
from bot.notifier.poller import Poller
from bot.notifier.runner import run_periodically
from bot.storage.leader_lock import LeaderLock

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class PollerRole:
    """``await run()`` until cancelled; ``leading`` says whether this replica runs the pollers now."""

    def __init__(
        self,
        pollers: Sequence[Poller],
        lock: LeaderLock,
        metrics: Metrics,
        *,
        replica_id: str,
        check_seconds: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._pollers = tuple(pollers)
        self._lock = lock
        self._metrics = metrics
        self._replica_id = replica_id
        self._check_seconds = check_seconds
        self._sleep = sleep
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pollers(self) -> tuple[Poller, ...]:
        """Every poller this role runs while it leads."""
        return self._pollers

    @property
    def leading(self) -> bool:
        return bool(self._tasks)

    async def run(self) -> None:
        self._metrics.poller_leader.labels(self._replica_id).set(0)
        try:
            while True:
                if await self._holds_lock():
                    self._lead()
                elif self.leading:
                    log.warning("replica %s lost the poller lock; its pollers stop", self._replica_id)
                    await self._stop_pollers()
                await self._sleep(self._check_seconds)
        finally:
            await self._stop_pollers()

    async def _holds_lock(self) -> bool:
        """The lock's answer; ``False`` (logged) when asking failed in a way the lock did not expect."""
        try:
            return await self._lock.hold()
        except Exception as error:
            log.warning("could not check the poller lock: %s: %s", type(error).__name__, error)
            return False

    def _lead(self) -> None:
        if self.leading:
            return
        log.info("replica %s holds the poller lock; its pollers start", self._replica_id)
        self._tasks = [
            asyncio.create_task(run_periodically(poller, self._metrics), name=f"poller:{poller.name}")
            for poller in self._pollers
        ]
        self._metrics.poller_leader.labels(self._replica_id).set(1)

    async def _stop_pollers(self) -> None:
        tasks, self._tasks = self._tasks, []
        self._metrics.poller_leader.labels(self._replica_id).set(0)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
