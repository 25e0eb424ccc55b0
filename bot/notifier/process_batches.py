"""One live Slack card per process batch, updated in place as its processes finish.

Part of the process-status round: ``ProcessStatusNotifier`` asks bol.com once for every watched id
(single watches and batch processes together, a chunk at a time), gathers the batch processes that
ended across chunks and hands them here (``finish``), then runs the rest of the round (``run``). A
round finishes processes in the store (the claim), marks stuck ones, completes batches, posts new
cards, redraws each changed card once (however many of its processes finished), and posts the thread
replies and summaries that are due (``BatchReplies``, ``BatchSummaries``). A card carries its batch
id in its metadata: a card post with no answer keeps its claim and leaves a post attempt for the
``PostReconciler`` (``adopt`` the card found in the channel, or ``release`` to post again); the
replies follow the same rule.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.bol.models import BulkResult
from bot.clock import Clock
from bot.messaging import Announced, MessageKey, MessageRef
from bot.metrics import Metrics
from bot.notifier.batch_replies import BatchReplies, BatchReplyStore, BatchSummaries
from bot.notifier.delivery import post_with_fallback
from bot.notifier.failures import describe
from bot.notifier.reconcile import posting
from bot.slack.outbound.blocks.batch_card import batch_card
from bot.slack.outbound.poster import SlackPoster
from bot.storage.records import BatchMember, BatchView, MemberOutcome, MemberState

log = logging.getLogger(__name__)


def ended_members(result: BulkResult, members: Iterable[BatchMember]) -> Iterator[tuple[str, MemberOutcome]]:
    """Each of ``members`` that bol.com reports final (or no longer knows: purged), with its batch id."""
    for member in members:
        process_id = member.process_status_id
        status = result.found.get(process_id)
        if status is None:
            yield member.batch_id, MemberOutcome(process_id, MemberState.PURGED)
        elif status.state.is_final:
            outcome = MemberOutcome(
                process_id,
                MemberState(status.state.value),
                entity_id=status.entity_id,
                event_type=status.event_type,
                error_message=status.error_message,
            )
            yield member.batch_id, outcome


class BatchStore(BatchReplyStore, Protocol):
    """The store operations batch cards use."""

    async def batch_view(self, batch_id: str, *, failures: int = 5) -> BatchView | None: ...

    async def batches_to_redraw(self) -> list[str]: ...

    async def batches_without_card(self) -> list[str]: ...

    async def claim_batch_card(self, batch_id: str) -> bool: ...

    async def complete_finished_batches(self) -> list[str]: ...

    async def end_post(self, kind: str, subject_id: str) -> None: ...

    async def finish_batch_members(self, finished: Mapping[str, Sequence[MemberOutcome]]) -> list[str]: ...

    async def mark_batch_shown(self, batch_id: str, changes: int) -> None: ...

    async def mark_stuck(self, started_before: datetime) -> int: ...

    async def record_batch_card(self, batch_id: str, channel: str, ts: str, shown_changes: int) -> None: ...

    async def release_batch_card(self, batch_id: str) -> None: ...

    async def start_post(
        self, kind: str, subject_id: str, channel: str, *, thread_ts: str | None = None
    ) -> None: ...


DEFAULT_STUCK_AFTER = timedelta(hours=3)


class BatchProgress:
    announces = Announced.BATCH_CARD

    def __init__(
        self,
        store: BatchStore,
        poster: SlackPoster,
        metrics: Metrics,
        *,
        clock: Clock,
        fallback_channel: str,
        failure_mention: str | None = None,
        stuck_after: timedelta = DEFAULT_STUCK_AFTER,
    ) -> None:
        self._store = store
        self._poster = poster
        self._metrics = metrics
        self._clock = clock
        self._fallback_channel = fallback_channel
        self._failure_mention = failure_mention
        self._stuck_after = stuck_after
        # The announcers of the replies in the cards' threads, reconciled like the cards.
        self.replies = BatchReplies(store, poster, metrics)
        self.summaries = BatchSummaries(store, poster, failure_mention=failure_mention)

    async def run(self) -> int:
        """The rest of a round, once every chunk's finished processes are recorded (``finish``): for
        every batch; returns the messages posted (cards and replies, not updates)."""
        await self._store.mark_stuck(self._clock() - self._stuck_after)
        await self._store.complete_finished_batches()
        posted = await self.post_new_cards()
        await self._redraw_changed_cards()
        posted += await self.replies.post_due()
        posted += await self.summaries.post_due()
        return posted

    async def finish(self, finished: Mapping[str, Sequence[MemberOutcome]]) -> None:
        """Records ``finished`` (batch id -> its processes that ended, from ``ended_members``), every
        batch in one transaction; a failure leaves them unfinished, for the next round."""
        try:
            await self._store.finish_batch_members(finished)
        except Exception as error:
            ended = sum(map(len, finished.values()))
            log.warning("could not record %d finished batch processes: %s", ended, describe(error))

    async def post_new_cards(self) -> int:
        """Posts the card of every batch that has none yet (claimed first: one poster across replicas);
        returns how many. A channel the bot cannot post in gets the card in the fallback channel, and
        the batch follows it there. Also run on its own, right after batches come in (``BatchCards``)."""
        posted = 0
        for batch_id in await self._store.batches_without_card():
            if not await self._store.claim_batch_card(batch_id):
                continue
            try:
                posted += await self._post_card(batch_id)
            except Exception as error:
                log.warning("could not post the card of batch %s: %s", batch_id, describe(error))
        return posted

    async def _post_card(self, batch_id: str) -> int:
        """Posts the claimed card: a definite failure releases the claim, no answer keeps it."""
        kind = self.announces.value

        async def before_post(channel: str) -> None:
            await self._store.start_post(kind, batch_id, channel)

        async with posting(self._store, self, batch_id):
            view = await self._store.batch_view(batch_id)
            assert view is not None
            text, blocks = batch_card(
                view, now=self._clock(), failure_mention=self._failure_mention, stuck_after=self._stuck_after
            )
            channel, ts = await post_with_fallback(
                self._poster,
                view.batch.channel,
                self._fallback_channel,
                text,
                blocks,
                key=MessageKey(self.announces, batch_id),
                before_post=before_post,
            )
        await self._record(batch_id, MessageRef(channel, ts), view.batch.changes)
        return 1

    def message_key(self, subject_id: str) -> MessageKey:
        return MessageKey(self.announces, subject_id)

    async def adopt(self, batch_id: str, ref: MessageRef) -> None:
        """A card whose answer was lost is in the channel: it is the batch's card (redrawn next round)."""
        await self._record(batch_id, ref, shown_changes=0)

    async def release(self, batch_id: str) -> None:
        """The card was not posted: the next round posts it."""
        await self._store.end_post(self.announces.value, batch_id)
        await self._store.release_batch_card(batch_id)

    async def _record(self, batch_id: str, ref: MessageRef, shown_changes: int) -> None:
        await self._store.record_batch_card(batch_id, ref.channel, ref.ts, shown_changes)
        await self._store.end_post(self.announces.value, batch_id)

    async def _redraw_changed_cards(self) -> None:
        for batch_id in await self._store.batches_to_redraw():
            try:
                view = await self._store.batch_view(batch_id)
                assert view is not None and view.batch.card_ts is not None
                text, blocks = batch_card(
                    view,
                    now=self._clock(),
                    failure_mention=self._failure_mention,
                    stuck_after=self._stuck_after,
                )
                await self._poster.update(view.batch.channel, view.batch.card_ts, text, blocks)
            except Exception as error:
                log.warning("could not update the card of batch %s: %s", batch_id, describe(error))
                continue
            await self._store.mark_batch_shown(batch_id, view.batch.changes)
