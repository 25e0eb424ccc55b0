"""Polls watched bol.com process statuses in bulk and posts when they finish.

A round streams the active processes from the store and asks bol.com a chunk of 1000 ids at a time,
so its memory does not grow with the number of watches.

Finishing the watch in the store is the claim to announce it, so of several pollers (replicas) one
posts; a failed post reopens the watch for the next round. One failing watch never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from bot.bol.client import BolClient
from bot.bol.models import MAX_BULK_IDS, BulkResult, ProcessStatus
from bot.logging_setup import log_context
from bot.metrics import Metrics
from bot.notifier.delivery import post_with_fallback
from bot.notifier.failures import describe
from bot.notifier.process_batches import BatchProgress
from bot.slack.outbound.blocks.process_status import process_purged_message, process_status_message
from bot.slack.outbound.blocks.types import Block
from bot.slack.outbound.poster import SlackPoster
from bot.storage.records import ActiveProcess, Watch
from bot.storage.store import Store

log = logging.getLogger(__name__)

PURGED = "PURGED"
PAGE_ROWS = 1000
"""Rows read from the store per query while a round goes through the active processes."""


class ProcessStatusNotifier:
    name = "process_status"

    def __init__(
        self,
        bol: BolClient,
        store: Store,
        poster: SlackPoster,
        metrics: Metrics,
        *,
        fallback_channel: str,
        interval_seconds: float = 15.0,
        batches: BatchProgress | None = None,
    ) -> None:
        self._bol = bol
        self._store = store
        self._poster = poster
        self._metrics = metrics
        self._fallback_channel = fallback_channel
        self.interval_seconds = interval_seconds
        self._batches = batches

    async def poll_once(self) -> int:
        """One round over every active watch and batch process (ceil(N/1000) bulk calls for N distinct
        ids, whatever mix of watches and batches they come from); returns messages posted.

        Read, asked and handled a chunk of 1000 ids at a time, so a round holds one chunk's rows and
        answers, never all of them."""
        posted = watched = 0
        async for chunk in self._chunks():
            watched += len(chunk)
            result = await self._bol.get_process_statuses([p.process_status_id for p in chunk])
            for watch in (p.watch for p in chunk if p.watch is not None):
                posted += await self._handle_logged(watch, result)
            if self._batches is not None:
                await self._batches.finish(result, [p.member for p in chunk if p.member is not None])
        self._metrics.watches.set(watched)
        if self._batches is not None:
            posted += await self._batches.run()
        return posted

    async def _chunks(self) -> AsyncIterator[list[ActiveProcess]]:
        """Every active process, in chunks of at most ``MAX_BULK_IDS`` distinct ids, read a page at a
        time; the rows of one id (watched in several channels) stay in one chunk, so it is asked once."""
        chunk: list[ActiveProcess] = []
        ids = 0
        after: tuple[str, str] | None = None
        while True:
            page = await self._store.active_processes(
                after=after, limit=PAGE_ROWS, batches=self._batches is not None
            )
            for row in page:
                new_id = not chunk or chunk[-1].process_status_id != row.process_status_id
                if new_id and ids == MAX_BULK_IDS:
                    yield chunk
                    chunk, ids = [], 0
                chunk.append(row)
                ids += new_id
            if len(page) < PAGE_ROWS:
                break
            after = page[-1].key
        if chunk:
            yield chunk

    async def _handle_logged(self, watch: Watch, result: BulkResult) -> int:
        with log_context(process_status_id=watch.process_status_id, slack_user=watch.slack_user_id):
            try:
                return await self._handle(
                    watch,
                    result.found.get(watch.process_status_id),
                    watch.process_status_id in result.purged,
                )
            except Exception as error:
                # The watch stays active: the next round tries again; the other watches go on.
                log.warning(
                    "could not notify %s about %s: %s",
                    watch.channel,
                    watch.process_status_id,
                    describe(error),
                )
                return 0

    async def _handle(self, watch: Watch, status: ProcessStatus | None, purged: bool) -> int:
        if purged or status is None:
            final_state, message = PURGED, process_purged_message(watch.process_status_id)
        elif status.state.is_final:
            final_state, message = (
                status.state.value,
                process_status_message(status, watched_by=watch.slack_user_id),
            )
        else:
            return 0
        finished = await self._store.finish_watch(
            watch.process_status_id,
            watch.channel,
            final_state,
            entity_id=status.entity_id if status else None,
            event_type=status.event_type if status else None,
            error_message=status.error_message if status else None,
        )
        if not finished:
            return 0
        try:
            ts = await self._post(watch, *message)
        except BaseException:
            await self._store.reopen_watch(watch.process_status_id, watch.channel)  # try again next round
            raise
        await self._store.record_watch_message(watch.process_status_id, watch.channel, ts)
        if final_state != PURGED:
            self._metrics.process_notifications.labels(final_state).inc()
        return 1

    async def _post(self, watch: Watch, text: str, blocks: list[Block]) -> str:
        """Posts in the watch's channel, falling back to the default channel if the bot can't post there."""
        _, ts = await post_with_fallback(self._poster, watch.channel, self._fallback_channel, text, blocks)
        return ts
