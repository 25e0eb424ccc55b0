"""Posts each new pending Commerce approval once, and closes cards decided in Commerce."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from bot.commerce.client import CommerceClient
from bot.commerce.errors import ApprovalNotFound
from bot.commerce.models import Approval, ApprovalKind, ApprovalState
from bot.metrics import Metrics
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.services.decisions import ABANDONED_CLAIM_AFTER
from bot.services.order_details import OrderDetails, closed_card
from bot.slack.blocks.approval_card import approval_card
from bot.slack.cards import CardUpdater
from bot.slack.poster import SlackPoster
from bot.storage.records import CardState, DecisionState
from bot.storage.store import Store

log = logging.getLogger(__name__)

STALE_POSTING_AFTER = timedelta(minutes=10)
"""A card still POSTING after this long was claimed by a process that died before posting it
(longer than any post takes, Slack rate-limit waits included)."""


class ApprovalsNotifier:
    def __init__(
        self,
        commerce: CommerceClient,
        store: Store,
        poster: SlackPoster,
        cards: CardUpdater,
        metrics: Metrics,
        *,
        channel: str,
        order_details: OrderDetails,
    ) -> None:
        self._commerce = commerce
        self._store = store
        self._poster = poster
        self._cards = cards
        self._metrics = metrics
        self._channel = channel
        self._order_details = order_details

    async def poll_once(self) -> int:
        """One round: returns how many new cards were posted."""
        await self._release_stale_claims()
        pending: dict[str, Approval] = {}
        for kind in (ApprovalKind.ORDER, ApprovalKind.BUYER):
            async for approval in self._commerce.iter_approvals(kind, ApprovalState.PENDING):
                pending.setdefault(approval.id, approval)
        known = await self._store.known_card_ids(pending)
        failures = 0
        posted = 0
        for approval in pending.values():
            if approval.id in known:
                continue
            try:
                # A shutdown must not cut a post off between Slack and the store (that would post twice).
                posted += await asyncio.shield(self._post_card(approval))
            except Exception as error:
                log.warning("could not post the card for approval %s: %s", approval.id, describe(error))
                failures += 1
        # Only a complete listing proves that an open card is no longer pending.
        await self._close_decided_cards(pending)
        if failures:
            raise NotifierRoundIncomplete(
                f"{failures} card(s) could not be posted; they are retried next round"
            )
        return posted

    async def _post_card(self, approval: Approval) -> int:
        """Posts the card unless another poller claimed it first; a failed post releases the claim."""
        if not await self._store.claim_card(approval.id, approval.guessed_kind.value):
            return 0
        try:
            text, blocks = approval_card(approval, await self._order_details.for_approval(approval))
            ts = await self._poster.post(self._channel, text, blocks)
        except BaseException:
            await self._store.release_card(approval.id)
            raise
        self._metrics.cards_posted.inc()
        if not await self._store.card_posted(approval.id, self._channel, ts):
            # Decided from Slack while the card was being posted: show how it ended, not buttons.
            await self._redraw_decided(approval.id, self._channel, ts)
        return 1

    async def _redraw_decided(self, approval_id: str, channel: str, ts: str) -> None:
        text, blocks = await closed_card(approval_id, await self._current(approval_id), self._order_details)
        await self._poster.update(channel, ts, text, blocks)

    async def _current(self, approval_id: str) -> Approval | None:
        """The approval as Commerce has it now; ``None`` when Commerce no longer has it."""
        try:
            return await self._commerce.get_approval(approval_id)
        except ApprovalNotFound:
            return None

    async def _release_stale_claims(self) -> None:
        for card in await self._store.stale_posting_cards(datetime.now(UTC) - STALE_POSTING_AFTER):
            log.warning("approval %s was claimed but never posted; it will be posted again", card.approval_id)
            await self._store.release_card(card.approval_id)

    async def _close_decided_cards(self, pending: Collection[str]) -> None:
        for card in await self._store.open_cards():
            if card.approval_id in pending or await self._decision_under_way(card.approval_id):
                continue
            try:
                await self._close_card(card.approval_id)
            except Exception as error:
                log.warning("could not close the card of approval %s: %s", card.approval_id, describe(error))

    async def _decision_under_way(self, approval_id: str) -> bool:
        """A decision from Slack in progress owns the card (unless it was abandoned by a dead bot)."""
        claim = await self._store.get_decision(approval_id)
        return (
            claim is not None
            and claim.state is DecisionState.IN_PROGRESS
            and claim.claimed_at > datetime.now(UTC) - ABANDONED_CLAIM_AFTER
        )

    async def _close_card(self, approval_id: str) -> None:
        approval = await self._current(approval_id)
        if approval is not None and approval.is_pending:
            return  # listed late; still open
        text, blocks = await closed_card(approval_id, approval, self._order_details)
        if await self._cards.replace(
            approval_id, CardState.DECIDED_ELSEWHERE, text, blocks, only_if_open=True
        ):
            self._metrics.cards_closed.inc()
