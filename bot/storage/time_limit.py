"""A time limit around every store call, so a database that accepts and never answers cannot hang the bot.

A hung call is cancelled, but its cleanup is not waited for: psycopg answers a cancellation by asking
the server to cancel the query (on a new connection, waiting up to seconds) before closing the
connection, and that is exactly what a silent server never allows. The caller gets
:class:`StoreUnavailable` at the limit; the abandoned call finishes its cleanup in the background.

Error hierarchy: ``StoreUnavailable`` (a ``TimeoutError``).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

NOT_LIMITED = frozenset({"open", "close", "ping"})
"""``open`` has the caller's limit (start-up, ``check``); ``close`` sends no query; ``ping`` limits itself."""


class StoreUnavailable(TimeoutError):
    """The database did not answer a store call within the time limit."""


class TimeLimit:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._abandoned: set[asyncio.Task[Any]] = set()

    async def run(self, call: Coroutine[Any, Any, T], what: str) -> T:
        """``call``'s result; :class:`StoreUnavailable` when it takes longer than the limit."""
        if self.seconds is None:
            return await call
        task = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task in done:
            return task.result()
        task.cancel()
        self._abandoned.add(task)  # held until its cleanup ends (the loop keeps only weak references)
        task.add_done_callback(self._forget)
        raise StoreUnavailable(f"the database did not answer within {self.seconds:g} s ({what})")

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: an abandoned call's error is no one's to report


def _limited(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(method)
    async def limited(*args: P.args, **kwargs: P.kwargs) -> T:
        time_limit: TimeLimit = args[0]._time_limit  # type: ignore[attr-defined]
        return await time_limit.run(method(*args, **kwargs), what=method.__name__)

    return limited


def limit_every_call(cls: type[T]) -> type[T]:
    """Class decorator: every public coroutine method (inherited ones too) runs under ``self._time_limit``."""
    for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction):
        if not name.startswith("_") and name not in NOT_LIMITED:
            setattr(cls, name, _limited(member))
    return cls
