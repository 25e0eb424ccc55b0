"""Runs the real bot (BotServer: aiohttp + Bolt + notifier) on its own event loop in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.clock import Clock, utcnow
from bot.runtime import Runtime
from bot.server import BotServer
from bot.settings import Settings

T = TypeVar("T")


class RunningBot:
    def __init__(self, settings: Settings, *, clock: Clock = utcnow) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bot-loop", daemon=True)
        self._thread.start()
        self.server = BotServer(settings, host="127.0.0.1", clock=clock)
        self.port = self.call(self.server.start())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def runtime(self) -> Runtime:
        assert self.server.runtime is not None
        return self.server.runtime

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def poll_approvals(self) -> int:
        """One approvals round, then the announcer's: the cards posted."""
        offered = self.call(self.runtime.poller("approvals").poll_once())
        return offered + self.call(self.runtime.poller("announcements").poll_once())

    def poll_processes(self) -> int:
        return self.call(self.runtime.poller("process_status").poll_once())

    def poll_follows(self) -> int:
        return self.call(self.runtime.poller("entity_follows").poll_once())

    def poll(self, name: str) -> int:
        """One round of the poller called ``name``."""
        return self.call(self.runtime.poller(name).poll_once())

    def stop(self) -> None:
        try:
            self.call(self.server.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            self.loop.close()
