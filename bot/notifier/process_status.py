"""Polls watched bol.com process statuses in bulk and posts when they finish.

A round streams the active processes from the store and asks bol.com a chunk of 1000 ids at a time,
so its memory does not grow with the number of watches.

Finishing the watch in the store is the claim to announce it, so of several pollers (replicas) one
posts. The message carries the watch's batch id in its metadata. A post Slack definitely refused
reopens the watch for the next round; one with no answer keeps it finished and leaves a post attempt
for the ``PostReconciler`` (``adopt`` the message found in the channel, or ``release`` to post again).
One failing watch never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.bol.client import BolClient
from bot.bol.models import MAX_BULK_IDS, BulkResult, ProcessStatus
from bot.logging_setup import log_context
from bot.messaging import Announced, MessageKey, MessageRef
from bot.metrics import Metrics
from bot.notifier.delivery import post_with_fallback
from bot.notifier.failures import describe
from bot.notifier.process_batches import BatchProgress, ended_members
from bot.notifier.reconcile import PostingStore, posting
from bot.slack.outbound.blocks.process_status import process_purged_message, process_status_message
from bot.slack.outbound.poster import SlackPoster
from bot.storage.records import ActiveProcess, MemberOutcome, Watch, WatchEnding

log = logging.getLogger(__name__)


class WatchStore(PostingStore, Protocol):
    """The store operations the process-status round uses."""

    async def active_processes(
        self, *, after: tuple[str, str] | None, limit: int, batches: bool = True
    ) -> list[ActiveProcess]: ...

    async def end_post(self, kind: str, subject_id: str) -> None: ...

    async def finish_watches(self, endings: Sequence[WatchEnding], *, announcement: str) -> set[str]: ...

    async def record_watch_messages(
        self, posted: Sequence[tuple[str, str]], *, announcement: str
    ) -> None: ...

    async def reopen_watch_batch(self, batch_id: str) -> None: ...

    async def start_post(
        self, kind: str, subject_id: str, channel: str, *, thread_ts: str | None = None
    ) -> None: ...


PURGED = "PURGED"
ANNOUNCING = 8
"""Ended watches posted at once: their posts overlap, where one after the other a round with many
ending took a wait on Slack for each."""
ANNOUNCED_TOGETHER = 50
"""Ended watches finished in one transaction, then posted, then recorded in one: two transactions for
50 announcements instead of two for each. Few enough that the last of them is posted well within the
time after which the reconciler takes a post attempt of a live process as stuck (one channel's 50
posts take about 50 s at Slack's pace)."""
FINISHED_TOGETHER = 1000
"""Batch processes recorded as finished in one transaction, gathered across chunks: 1,000 ending
among 100,000 watched are a few in each of a hundred chunks, and a transaction per chunk made their
cost grow with what is watched."""
PAGE_ROWS = 1000
"""Rows read from the store per query while a round goes through the active processes."""


@dataclass(frozen=True)
class _Ended:
    """A single watch whose process ended, waiting in a round to be announced with others."""

    watch: Watch
    ending: WatchEnding
    status: ProcessStatus | None
    """bol.com's last word on the process; None when it no longer knows it (purged)."""


class ProcessStatusNotifier:
    name = "process_status"
    announces = Announced.PROCESS_STATUS

    def __init__(
        self,
        bol: BolClient,
        store: WatchStore,
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

        Read, asked and handled a chunk of 1000 ids at a time, so a round holds at most two chunks'
        rows and answers, never all of them. One bulk call is in flight at a time, and while it is,
        the next page is read and the chunk before is handled: bol.com's answer time overlaps the
        store's and the bot's own work instead of adding to it. Ended watches are announced
        ``ANNOUNCED_TOGETHER`` at a time across chunks, and ended batch processes recorded
        ``FINISHED_TOGETHER`` at a time (the rest at the round's end, also when the round fails)."""
        posted = watched = 0
        asked: tuple[list[ActiveProcess], asyncio.Task[BulkResult]] | None = None
        waiting: list[_Ended] = []
        members: dict[str, list[MemberOutcome]] = defaultdict(list)
        try:
            async for chunk in self._chunks():
                watched += len(chunk)
                answered = None if asked is None else (asked[0], await asked[1])
                ids = [p.process_status_id for p in chunk]
                asked = chunk, asyncio.create_task(self._bol.get_process_statuses(ids))
                if answered is not None:
                    posted += await self._handle_chunk(*answered, waiting, members)
            if asked is not None:
                posted += await self._handle_chunk(asked[0], await asked[1], waiting, members)
        except Exception:
            # What ended before the failure is recorded and announced all the same.
            await self._finish_members(members)
            await self._announce(waiting)
            raise
        finally:
            if asked is not None and not asked[1].done():
                asked[1].cancel()  # the round failed while a call was in flight
            elif asked is not None and not asked[1].cancelled():
                asked[1].exception()  # read: the round's own error is the one raised
        posted += await self._announce(waiting)
        await self._finish_members(members)
        self._metrics.watches.set(watched)
        if self._batches is not None:
            posted += await self._batches.run()
        return posted

    async def _handle_chunk(
        self,
        chunk: list[ActiveProcess],
        result: BulkResult,
        waiting: list[_Ended],
        members: dict[str, list[MemberOutcome]],
    ) -> int:
        """Adds the chunk's single watches that ended to ``waiting`` and announces every full group of
        it; adds its batch processes that ended to ``members`` and records them once there are
        ``FINISHED_TOGETHER``. How many were posted."""
        for process in chunk:
            if _ended(process.process_status_id, result) and (watch := process.watch) is not None:
                waiting.append(_ended_watch(process.batch_id, watch, result))
        posted = 0
        while len(waiting) >= ANNOUNCED_TOGETHER:
            posted += await self._announce_together(waiting[:ANNOUNCED_TOGETHER])
            del waiting[:ANNOUNCED_TOGETHER]
        if self._batches is not None:
            for batch_id, outcome in ended_members(result, (m for p in chunk if (m := p.member) is not None)):
                members[batch_id].append(outcome)
            if sum(map(len, members.values())) >= FINISHED_TOGETHER:
                await self._finish_members(members)
        return posted

    async def _finish_members(self, members: dict[str, list[MemberOutcome]]) -> None:
        """Records the batch processes gathered in ``members`` as finished, and empties it."""
        if self._batches is not None and members:
            await self._batches.finish(members)
        members.clear()

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

    async def _announce(self, waiting: list[_Ended]) -> int:
        """Announces every watch in ``waiting``, ``ANNOUNCED_TOGETHER`` at a time, and empties it; how
        many were posted."""
        posted = 0
        for start in range(0, len(waiting), ANNOUNCED_TOGETHER):
            posted += await self._announce_together(waiting[start : start + ANNOUNCED_TOGETHER])
        waiting.clear()
        return posted

    async def _announce_together(self, group: list[_Ended]) -> int:
        """Finishes the watches of ``group`` in one transaction (each finish the claim to announce it,
        with its post attempt), posts those finished here ``ANNOUNCING`` at a time (the poster keeps a
        channel's posts one at a time), and records where they went in one more. A watch whose post
        failed is released or left to the reconciler by its own attempt; the others go on."""
        kind = self.announces.value
        try:
            finished = await self._store.finish_watches([e.ending for e in group], announcement=kind)
        except Exception as error:
            # The watches stay active: the next round tries again.
            log.warning("could not finish %d ended watches: %s", len(group), describe(error))
            return 0
        turns = asyncio.Semaphore(ANNOUNCING)

        async def announce(ended: _Ended) -> tuple[str, str] | None:
            async with turns:
                ts = await self._post_logged(ended)
            return None if ts is None else (ended.ending.batch_id, ts)

        posts = await asyncio.gather(*(announce(e) for e in group if e.ending.batch_id in finished))
        posted = [post for post in posts if post is not None]
        try:
            await self._store.record_watch_messages(posted, announcement=kind)
        except Exception as error:
            # Posted: their attempts stay, and the reconciler finds the messages and records them.
            log.warning("could not record %d watch messages: %s", len(posted), describe(error))
        states = {e.ending.batch_id: e.ending.state for e in group}
        for batch_id, _ in posted:
            if states[batch_id] != PURGED:
                self._metrics.process_notifications.labels(states[batch_id]).inc()
        return len(posted)

    async def _post_logged(self, ended: _Ended) -> str | None:
        """Posts the announcement of the finished watch; its ``ts``, or None when it failed (logged;
        ``posting`` released the watch or left its attempt to the reconciler)."""
        watch = ended.watch
        with log_context(process_status_id=watch.process_status_id, slack_user=watch.slack_user_id):
            try:
                return await self._post(ended)
            except Exception as error:
                log.warning(
                    "could not notify %s about %s: %s",
                    watch.channel,
                    watch.process_status_id,
                    describe(error),
                )
                return None

    async def _post(self, ended: _Ended) -> str:
        watch, status = ended.watch, ended.status
        batch_id, kind = ended.ending.batch_id, self.announces.value
        if ended.ending.state == PURGED or status is None:
            message = process_purged_message(watch.process_status_id)
        else:
            message = process_status_message(status, watched_by=watch.slack_user_id)
        key = MessageKey(self.announces, batch_id, (("process_status_id", watch.process_status_id),))

        async def before_post(channel: str) -> None:
            if channel != watch.channel:  # the fallback channel: its own attempt
                await self._store.start_post(kind, batch_id, channel)

        async with posting(self._store, self, batch_id):
            _, ts = await post_with_fallback(
                self._poster,
                watch.channel,
                self._fallback_channel,
                *message,
                key=key,
                before_post=before_post,
            )
        return ts

    def message_key(self, subject_id: str) -> MessageKey:
        return MessageKey(self.announces, subject_id)

    async def adopt(self, batch_id: str, ref: MessageRef) -> None:
        """Records where the watch's announcement went (also one found again after its answer was lost)."""
        await self._store.record_watch_messages([(batch_id, ref.ts)], announcement=self.announces.value)

    async def release(self, batch_id: str) -> None:
        """The announcement was not posted: the watch is active again and the next round announces it."""
        await self._store.end_post(self.announces.value, batch_id)
        await self._store.reopen_watch_batch(batch_id)


def _ended(process_status_id: str, result: BulkResult) -> bool:
    """Whether bol.com says the process ended (a final state, or purged: no longer known)."""
    status = result.found.get(process_status_id)
    return status is None or status.state.is_final or process_status_id in result.purged


def _ended_watch(batch_id: str, watch: Watch, result: BulkResult) -> _Ended:
    """The ended ``watch`` (of the batch of one ``batch_id``) with how its process ended, as the store
    records it."""
    status = result.found.get(watch.process_status_id)
    purged = status is None or watch.process_status_id in result.purged
    ending = WatchEnding(
        batch_id=batch_id,
        process_status_id=watch.process_status_id,
        channel=watch.channel,
        state=PURGED if purged or status is None else status.state.value,
        entity_id=None if status is None else status.entity_id,
        event_type=None if status is None else status.event_type,
        error_message=None if status is None else status.error_message,
    )
    return _Ended(watch, ending, status)
