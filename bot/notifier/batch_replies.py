"""The replies in a batch card's thread: one per finished process that asks for it, and the summary
that ends a batch with failures.

Part of the batch round (``BatchProgress.run``). Each reply is claimed in the store before it is
posted, with a ``MessageKey`` in its metadata (the batch id and the process id) and a post attempt that
names the card's thread. A definite "not posted" releases the claim for the next round; a post with no
answer keeps it, and the ``PostReconciler`` reads the thread (``conversations.replies``): the reply
found is recorded (``adopt``), one not there is posted again (``release``). So a reply is never
posted twice, nor lost.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.messaging import Announced, MessageKey, MessageRef
from bot.metrics import Metrics
from bot.notifier.failures import describe
from bot.notifier.reconcile import PostingStore, posting
from bot.slack.outbound.blocks.batch_card import batch_reply, batch_summary
from bot.slack.outbound.poster import SlackPoster
from bot.storage.batches import batch_reply_of, batch_reply_subject
from bot.storage.records import BatchView, FinishedMember

log = logging.getLogger(__name__)


class BatchReplyStore(PostingStore, Protocol):
    """The store operations batch replies and summaries use."""

    async def batch_view(self, batch_id: str, *, failures: int = 5) -> BatchView | None: ...

    async def batches_owing_replies(self) -> list[str]: ...

    async def batches_owing_summary(self) -> list[str]: ...

    async def claim_batch_summary(self, batch_id: str) -> bool: ...

    async def claim_reply(self, batch_id: str, process_status_id: str) -> bool: ...

    async def due_replies(self, batch_id: str, limit: int) -> list[FinishedMember]: ...

    async def end_post(self, kind: str, subject_id: str) -> None: ...

    async def record_batch_summary(self, batch_id: str) -> None: ...

    async def record_reply(self, batch_id: str, process_status_id: str, ts: str) -> None: ...

    async def release_batch_summary(self, batch_id: str) -> None: ...

    async def release_reply(self, batch_id: str, process_status_id: str) -> None: ...

    async def start_post(
        self, kind: str, subject_id: str, channel: str, *, thread_ts: str | None = None
    ) -> None: ...


REPLIES_PER_BATCH_PER_ROUND = 50
"""Thread replies are paced per channel; the rest wait for the next round."""


class BatchReplies:
    """Posts the due replies about finished processes; reconciled by ``batch id/process id``."""

    announces = Announced.BATCH_REPLY

    def __init__(self, store: BatchReplyStore, poster: SlackPoster, metrics: Metrics) -> None:
        self._store = store
        self._poster = poster
        self._metrics = metrics

    async def post_due(self) -> int:
        """Posts the due replies of every batch with a card; returns how many. A failing post ends its
        batch's turn (the channel is in trouble): the next round tries again."""
        posted = 0
        for batch_id in await self._store.batches_owing_replies():
            view = await self._store.batch_view(batch_id, failures=0)
            if view is None or view.batch.card_ts is None:
                continue
            thread = MessageRef(view.batch.channel, view.batch.card_ts)
            for member in await self._store.due_replies(batch_id, REPLIES_PER_BATCH_PER_ROUND):
                if not await self._store.claim_reply(batch_id, member.process_status_id):
                    continue
                try:
                    await self._post(batch_id, member, thread)
                except Exception as error:
                    log.warning("could not reply in the thread of batch %s: %s", batch_id, describe(error))
                    break
                posted += 1
        return posted

    async def _post(self, batch_id: str, member: FinishedMember, thread: MessageRef) -> None:
        """Posts the claimed reply: a definite failure releases the claim, no answer keeps it."""
        kind, subject = self.announces.value, batch_reply_subject(batch_id, member.process_status_id)
        async with posting(self._store, self, subject):
            await self._store.start_post(kind, subject, thread.channel, thread_ts=thread.ts)
            ts = await self._poster.post(
                thread.channel, *batch_reply(member), thread_ts=thread.ts, key=self.message_key(subject)
            )
        await self.adopt(subject, MessageRef(thread.channel, ts))
        self._metrics.process_notifications.labels(member.state.value).inc()

    def message_key(self, subject_id: str) -> MessageKey:
        batch_id, process_status_id = batch_reply_of(subject_id)
        return MessageKey(self.announces, process_status_id, (("batch_id", batch_id),))

    async def adopt(self, subject_id: str, ref: MessageRef) -> None:
        """The reply is in the thread: recorded, never posted again."""
        await self._store.record_reply(*batch_reply_of(subject_id), ref.ts)
        await self._store.end_post(self.announces.value, subject_id)

    async def release(self, subject_id: str) -> None:
        """The reply was not posted: due again, the next round posts it."""
        await self._store.end_post(self.announces.value, subject_id)
        await self._store.release_reply(*batch_reply_of(subject_id))


class BatchSummaries:
    """Posts the reply that ends a complete batch with failures; reconciled by batch id."""

    announces = Announced.BATCH_SUMMARY

    def __init__(
        self, store: BatchReplyStore, poster: SlackPoster, *, failure_mention: str | None = None
    ) -> None:
        self._store = store
        self._poster = poster
        self._failure_mention = failure_mention

    async def post_due(self) -> int:
        """Posts the summary of every complete batch that owes one; returns how many."""
        posted = 0
        for batch_id in await self._store.batches_owing_summary():
            if not await self._store.claim_batch_summary(batch_id):
                continue
            try:
                await self._post(batch_id)
            except Exception as error:
                log.warning("could not post the summary of batch %s: %s", batch_id, describe(error))
                continue
            posted += 1
        return posted

    async def _post(self, batch_id: str) -> None:
        """Posts the claimed summary: a definite failure releases the claim, no answer keeps it."""
        kind = self.announces.value
        async with posting(self._store, self, batch_id):
            view = await self._store.batch_view(batch_id, failures=0)
            assert view is not None and view.batch.card_ts is not None
            channel, thread_ts = view.batch.channel, view.batch.card_ts
            await self._store.start_post(kind, batch_id, channel, thread_ts=thread_ts)
            message = batch_summary(view, failure_mention=self._failure_mention)
            ts = await self._poster.post(
                channel, *message, thread_ts=thread_ts, key=self.message_key(batch_id)
            )
        await self.adopt(batch_id, MessageRef(channel, ts))

    def message_key(self, subject_id: str) -> MessageKey:
        return MessageKey(self.announces, subject_id)

    async def adopt(self, batch_id: str, ref: MessageRef) -> None:
        """The summary is in the thread: recorded, never posted again."""
        await self._store.record_batch_summary(batch_id)
        await self._store.end_post(self.announces.value, batch_id)

    async def release(self, batch_id: str) -> None:
        """The summary was not posted: the next round posts it."""
        await self._store.end_post(self.announces.value, batch_id)
        await self._store.release_batch_summary(batch_id)
