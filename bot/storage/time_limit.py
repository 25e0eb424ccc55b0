"""A time limit around every store call, so a database that accepts and never answers cannot hang the bot.

A call over the limit, or whose caller is cancelled (a shutdown), is abandoned: the caller gets
:class:`StoreUnavailable` (or its cancellation) at once, and the call ends in the background.

On PostgreSQL the abandoned call is cancelled, and its cleanup is not waited for: psycopg answers a
cancellation by asking the server to cancel the query (on a new connection, waiting up to seconds)
before closing the connection, and that is exactly what a silent server never allows.

On SQLite it is not cancelled but left to end: once the writes queued before it have, each within
the busy timeout. aiosqlite runs each statement in its own thread whatever happens to the caller, so
a call cancelled while a SELECT is under way gets its connection closed with that statement open;
Python's sqlite3 then keeps the connection alive, its transaction and write lock with it, until the
garbage collector frees the statement. Until then every other write, in this process or another,
waits out the busy timeout and fails. :meth:`TimeLimit.settle` waits for the calls left to end.

Either way :class:`StoreUnavailable` means the call's outcome is unknown: a call left to end may
still commit, as a cancelled one could (aiosqlite's thread finishes a COMMIT it has begun, and
PostgreSQL may have committed before the cancel). The store's writes are claims and
compare-and-sets that a caller which did not hear back treats as not done, and at worst skips
(a reminder claimed, never posted); none is done twice.

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
    def __init__(self, seconds: float | None, *, cancels: bool = True) -> None:
        """``cancels``: whether an abandoned call is cancelled (PostgreSQL) or left to end (SQLite)."""
        self.seconds = seconds
        self._cancels = cancels
        self._abandoned: set[asyncio.Task[Any]] = set()

    async def run(self, call: Coroutine[Any, Any, T], what: str) -> T:
        """``call``'s result; :class:`StoreUnavailable` when it takes longer than the limit."""
        if self.seconds is None and self._cancels:
            return await call
        task = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.seconds)
        except asyncio.CancelledError:
            self._abandon(task)
            raise
        if task in done:
            return task.result()
        self._abandon(task)
        raise StoreUnavailable(f"the database did not answer within {self.seconds:g} s ({what})")

    async def settle(self, seconds: float) -> bool:
        """Waits at most ``seconds`` for every call left to end, those abandoned meanwhile too; whether
        they all ended. At once where abandoned calls are cancelled: their cleanup may wait on a
        server that never answers. Cancelling this wait cancels none of them."""
        if self._cancels:
            return True
        deadline = asyncio.get_running_loop().time() + seconds
        while self._abandoned:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            await asyncio.wait(set(self._abandoned), timeout=left)
        return True

    def _abandon(self, task: asyncio.Task[Any]) -> None:
        if self._cancels:
            task.cancel()
        self._abandoned.add(task)  # held until it ends (the loop keeps only weak references to tasks)
        task.add_done_callback(self._forget)

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
