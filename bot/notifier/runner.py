"""Runs a poller forever at its interval; one failing round never stops the loop.

A failing round is one WARNING line (its traceback only at DEBUG); the first success after a streak
of failures says so once.
"""

from __future__ import annotations

import asyncio
import logging

from bot.metrics import Metrics
from bot.notifier.failures import describe
from bot.notifier.poller import Poller, RetriedByAnother

log = logging.getLogger(__name__)


async def run_periodically(poller: Poller, metrics: Metrics) -> None:
    failing = False
    retried_elsewhere = isinstance(poller, RetriedByAnother)
    while True:
        try:
            count = await poller.poll_once()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            metrics.polls.labels(poller.name, "error").inc()
            log.warning(
                "%s poll failed%s: %s; %s",
                poller.name,
                " again" if failing else "",
                describe(error),
                _next_try(poller),
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            failing = True
        else:
            metrics.polls.labels(poller.name, "ok").inc()
            # A round with nothing to try (the failed items are not back yet) is no recovery.
            if failing and not (retried_elsewhere and getattr(poller, "idle", False)):
                log.info("%s poll recovered", poller.name)
                failing = False
            if count:
                log.info("%s poll: %d message(s) posted", poller.name, count)
        await asyncio.sleep(poller.interval_seconds)


def _next_try(poller: Poller) -> str:
    if isinstance(poller, RetriedByAnother):
        return f"the failed items are tried again within {poller.retry_seconds:g}s"
    return f"trying again every {poller.interval_seconds:g}s"
