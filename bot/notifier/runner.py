"""Runs a poller forever at its interval; one failing round never stops the loop.

A failing round is one WARNING line (its traceback only at DEBUG); the first success after a streak
of failures says so once.
"""

from __future__ import annotations

import asyncio
import logging

from bot.metrics import Metrics
from bot.notifier.failures import describe
from bot.notifier.poller import Poller

log = logging.getLogger(__name__)


async def run_periodically(poller: Poller, metrics: Metrics) -> None:
    failing = False
    while True:
        try:
            count = await poller.poll_once()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            metrics.polls.labels(poller.name, "error").inc()
            log.warning(
                "%s poll failed%s: %s; trying again every %gs",
                poller.name,
                " again" if failing else "",
                describe(error),
                poller.interval_seconds,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            failing = True
        else:
            metrics.polls.labels(poller.name, "ok").inc()
            if failing:
                log.info("%s poll recovered", poller.name)
            failing = False
            if count:
                log.info("%s poll: %d message(s) posted", poller.name, count)
        await asyncio.sleep(poller.interval_seconds)
