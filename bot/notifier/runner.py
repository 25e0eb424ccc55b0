"""Runs a poll function forever at a fixed interval; one failing round never stops the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.metrics import Metrics

log = logging.getLogger(__name__)


async def run_periodically(
    name: str,
    interval_seconds: float,
    poll: Callable[[], Awaitable[int]],
    metrics: Metrics,
) -> None:
    failing = False
    while True:
        try:
            count = await poll()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            metrics.polls.labels(name, "error").inc()
            # Log the first failure of a streak with its traceback, later ones in one line.
            if failing:
                log.warning("%s poll failed again: %s", name, error)
            else:
                log.exception("%s poll failed; will keep trying every %.0fs", name, interval_seconds)
            failing = True
        else:
            metrics.polls.labels(name, "ok").inc()
            if failing:
                log.info("%s poll recovered", name)
            failing = False
            if count:
                log.info("%s poll: %d message(s) posted", name, count)
        await asyncio.sleep(interval_seconds)
