"""Work a cancellation must not cut in two (a post and its record, a decision and its audit row).

:func:`shielded` is :func:`asyncio.shield` that also answers for the work after its caller is gone:
a shutdown cancels the caller at once, the work runs to its end (the server's drain waits for it),
and if it then fails, that is one WARNING line naming it, not asyncio's "Task exception was never
retrieved" with a traceback at ERROR whenever the task happens to be collected.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.error_text import one_line

log = logging.getLogger(__name__)

T = TypeVar("T")


async def shielded(work: Awaitable[T], what: str, describe: Callable[[BaseException], str] = one_line) -> T:
    """``work``'s result; a cancellation of the caller is raised at once and does not reach ``work``.
    ``describe`` words a failure nobody is left to hear of, as the caller words its own."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(functools.partial(_report_unheard, what, describe))  # also if done already
        raise


def _report_unheard(what: str, describe: Callable[[BaseException], str], task: asyncio.Future[Any]) -> None:
    if task.cancelled():
        return
    error = task.exception()  # retrieved here: no one else is left to
    if error is not None:
        log.warning("%s failed after its caller was cancelled: %s", what, describe(error))
