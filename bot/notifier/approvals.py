"""Posts each new pending Commerce approval once, and closes cards decided in Commerce."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.commerce.client import CommerceClient
from bot.commerce.errors import ApprovalNotFound
from bot.commerce.models import Approval, ApprovalKind, ApprovalState
from bot.metrics import Metrics
from bot.services.order_details import OrderDetails
from bot.slack.blocks.approval_card import approval_card, decided_elsewhere_card, not_found_card
from bot.slack.cards import CardUpdater
from bot.slack.poster import SlackPoster
from bot.storage.records import CardState
from bot.storage.store import Store

log = logging.getLogger(__name__)

STALE_POSTING_AFTER = timedelta(minutes=2)
"""A card still POSTING after this long was claimed by a process that died before posting it."""


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
        posted = 0
        for approval in pending.values():
            if approval.id not in known and await self._post_card(approval):
                posted += 1
        # Only a complete listing proves that an open card is no longer pending.
        await self._close_decided_cards(pending)
        return posted

    async def _post_card(self, approval: Approval) -> bool:
        """Posts the card unless another poller claimed it first; a failed post releases the claim."""
        if not await self._store.claim_card(approval.id, approval.guessed_kind.value):
            return False
        try:
            text, blocks = approval_card(approval, await self._order_details.for_approval(approval))
            ts = await self._poster.post(self._channel, text, blocks)
        except BaseException:
            await self._store.release_card(approval.id)
            raise
        await self._store.card_posted(approval.id, self._channel, ts)
        self._metrics.cards_posted.inc()
        return True

    async def _release_stale_claims(self) -> None:
        for card in await self._store.stale_posting_cards(datetime.now(UTC) - STALE_POSTING_AFTER):
            log.warning("approval %s was claimed but never posted; it will be posted again", card.approval_id)
            await self._store.release_card(card.approval_id)

    async def _close_decided_cards(self, pending: Collection[str]) -> None:
        for card in await self._store.open_cards():
            if card.approval_id in pending:
                continue
            if await self._store.get_decision(card.approval_id) is not None:
                continue  # a decision from Slack owns this card
            try:
                approval = await self._commerce.get_approval(card.approval_id)
            except ApprovalNotFound:
                text, blocks = not_found_card(card.approval_id)
            else:
                if approval.is_pending:
                    continue  # listed late; still open
                text, blocks = decided_elsewhere_card(
                    approval, await self._order_details.for_approval(approval)
                )
            try:
                changed = await self._cards.replace(
                    card.approval_id, CardState.DECIDED_ELSEWHERE, text, blocks, only_if_open=True
                )
            except SlackApiError as error:
                log.warning("could not close card %s: %s", card.approval_id, error.response.get("error"))
                continue
            if changed:
                self._metrics.cards_closed.inc()
