"""Posts each new pending Commerce approval once, and closes cards decided in Commerce.

A card is claimed in the store before it is posted (one post across replicas); a failed post
releases the claim so the next round tries again. Only a complete listing of pending approvals
proves that an open card is no longer pending. When one round finds more new approvals for a
channel than the backlog limit (a first start, or after an outage), they are all claimed and
announced by one summary message instead of a card each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable

from bot.commerce.client import CommerceClient
from bot.commerce.errors import ApprovalNotFound
from bot.commerce.models import Approval, ApprovalKind, ApprovalState
from bot.metrics import Metrics
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.services.order_details import OrderDetails
from bot.slack.outbound.cards import ApprovalCards
from bot.storage.store import Store

log = logging.getLogger(__name__)

DEFAULT_BACKLOG_LIMIT = 20


class ApprovalsNotifier:
    name = "approvals"

    def __init__(
        self,
        commerce: CommerceClient,
        store: Store,
        cards: ApprovalCards,
        metrics: Metrics,
        *,
        channel: str,
        order_details: OrderDetails,
        interval_seconds: float = 30.0,
        backlog_limit: int = DEFAULT_BACKLOG_LIMIT,
    ) -> None:
        self._commerce = commerce
        self._store = store
        self._cards = cards
        self._metrics = metrics
        self._channel = channel
        self._order_details = order_details
        self.interval_seconds = interval_seconds
        self._backlog_limit = backlog_limit

    async def poll_once(self) -> int:
        """One round: returns how many new cards were posted."""
        await self._store.release_stale_card_claims()
        pending: dict[str, Approval] = {}
        for kind in (ApprovalKind.ORDER, ApprovalKind.BUYER):
            async for approval in self._commerce.iter_approvals(kind, ApprovalState.PENDING):
                pending.setdefault(approval.id, approval)
        known = await self._store.known_card_ids(pending)
        failures = 0
        posted = 0
        for channel, new in self._new_by_channel(pending.values(), known).items():
            if len(new) > self._backlog_limit:
                try:
                    posted += await asyncio.shield(self._post_summary(channel, new))
                except Exception as error:
                    log.warning("could not post the summary of %d approvals: %s", len(new), describe(error))
                    failures += 1
                continue
            for approval in new:
                try:
                    # A shutdown must not cut a post off between Slack and the store (that would post twice).
                    posted += await asyncio.shield(self._post_card(approval))
                except Exception as error:
                    log.warning("could not post the card for approval %s: %s", approval.id, describe(error))
                    failures += 1
        await self._close_decided_cards(pending)
        if failures:
            raise NotifierRoundIncomplete(
                f"{failures} card(s) could not be posted; they are retried next round"
            )
        return posted

    def _new_by_channel(
        self, pending: Iterable[Approval], known: Collection[str]
    ) -> dict[str, list[Approval]]:
        """The approvals without a card row, by the channel their card goes to."""
        by_channel: dict[str, list[Approval]] = {}
        for approval in pending:
            if approval.id not in known:
                by_channel.setdefault(self._channel, []).append(approval)
        return by_channel

    async def _post_summary(self, channel: str, approvals: list[Approval]) -> int:
        """Claims every card, then posts one summary for those this poller claimed; a failed post
        releases the claims."""
        claimed = [a for a in approvals if await self._store.claim_card(a.id, a.guessed_kind.value)]
        if not claimed:
            return 0
        try:
            ref = await self._cards.post_summary(channel, claimed)
        except BaseException:
            for approval in claimed:
                await self._store.release_card(approval.id)
            raise
        await self._store.cards_summarised([a.id for a in claimed], ref.channel, ref.ts)
        self._metrics.followups.labels("backlog_summary").inc()
        log.info("%d new approvals announced in one summary in %s", len(claimed), channel)
        return 1

    async def _post_card(self, approval: Approval) -> int:
        """Posts the card unless another poller claimed it first; a failed post releases the claim."""
        if not await self._store.claim_card(approval.id, approval.guessed_kind.value):
            return 0
        try:
            ref = await self._cards.post(
                self._channel, approval, await self._order_details.for_approval(approval)
            )
        except BaseException:
            await self._store.release_card(approval.id)
            raise
        self._metrics.cards_posted.inc()
        if not await self._store.card_posted(approval.id, ref.channel, ref.ts):
            # Decided from Slack while the card was being posted: show how it ended, not buttons.
            current = await self._current(approval.id)
            await self._cards.redraw_closed(
                ref, approval.id, current, await self._order_details.for_approval(current)
            )
        return 1

    async def _current(self, approval_id: str) -> Approval | None:
        """The approval as Commerce has it now; ``None`` when Commerce no longer has it."""
        try:
            return await self._commerce.get_approval(approval_id)
        except ApprovalNotFound:
            return None

    async def _close_decided_cards(self, pending: Collection[str]) -> None:
        for card in await self._store.open_cards():
            if card.approval_id in pending or await self._store.decision_under_way(card.approval_id):
                continue
            try:
                await self._close_card(card.approval_id)
            except Exception as error:
                log.warning("could not close the card of approval %s: %s", card.approval_id, describe(error))

    async def _close_card(self, approval_id: str) -> None:
        approval = await self._current(approval_id)
        if approval is not None and approval.is_pending:
            return  # listed late; still open
        if await self._cards.close_if_open(
            approval_id, approval, await self._order_details.for_approval(approval)
        ):
            self._metrics.cards_closed.inc()
