"""Approval cards in Slack: posted once, then kept true.

``ApprovalCards`` is the Slack implementation of the core's ``CardPresenter``: for a decision the
core has already recorded the card's state, and a message that cannot be rewritten is logged, never
raised past a decision Commerce already has. A card closed by the notifier is marked closed only
after Slack accepted the rewrite, so a failed rewrite is tried again next round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError

from bot.commerce.models import Approval, Decision, OrderSummary
from bot.messaging import MessageRef
from bot.slack.outbound.blocks.approval_card import approval_card, closed_card, decided_card
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.poster import SlackPoster
from bot.storage.records import CardRecord, CardState
from bot.storage.store import Store

log = logging.getLogger(__name__)


class ApprovalCards:
    def __init__(self, store: Store, poster: SlackPoster) -> None:
        self._store = store
        self._poster = poster

    async def post(self, channel: str, approval: Approval, order: OrderSummary | None) -> MessageRef:
        """Posts a new card with Approve/Reject buttons; the caller holds the card claim."""
        text, blocks = approval_card(approval, order)
        return MessageRef(channel, await self._poster.post(channel, text, blocks))

    async def show_decision(
        self,
        approval: Approval,
        order: OrderSummary | None,
        *,
        decision: Decision,
        decided_by: str,
        comment: str | None,
        on: Sequence[MessageRef],
    ) -> bool:
        message = decided_card(
            approval,
            order=order,
            decision=decision,
            decided_by=decided_by,
            decided_at=datetime.now(UTC),
            comment=comment,
        )
        return await self._rewrite(approval.id, message, on)

    async def close(
        self,
        approval_id: str,
        approval: Approval | None,
        order: OrderSummary | None,
        *,
        on: Sequence[MessageRef],
    ) -> None:
        await self._rewrite(approval_id, closed_card(approval_id, approval, order), on)

    async def close_if_open(
        self, card: CardRecord, approval: Approval | None, order: OrderSummary | None
    ) -> bool:
        """Rewrites an open card as closed, then marks it closed in the store: a rewrite Slack refused
        leaves it open, so the next round tries again. False when it was not closed (the rewrite failed,
        or a decision from Slack recorded the card first)."""
        if not card.channel or not card.ts:
            return False
        if not await self._rewrite(
            card.approval_id,
            closed_card(card.approval_id, approval, order),
            [MessageRef(card.channel, card.ts)],
        ):
            return False
        return await self._store.transition_card(
            card.approval_id, CardState.PENDING, CardState.DECIDED_ELSEWHERE
        )

    async def redraw_closed(
        self, ref: MessageRef, approval_id: str, approval: Approval | None, order: OrderSummary | None
    ) -> None:
        """Rewrites a card that was posted while its approval was being decided (no state change)."""
        text, blocks = closed_card(approval_id, approval, order)
        await self._poster.update(ref.channel, ref.ts, text, blocks)

    async def _rewrite(self, approval_id: str, message: Message, targets: Sequence[MessageRef]) -> bool:
        """Rewrites each target once; whether every rewrite was accepted (True when there was none)."""
        text, blocks = message
        accepted = 0
        for target in dict.fromkeys(targets):
            try:
                await self._poster.update(target.channel, target.ts, text, blocks)
            except SlackApiError as error:
                log.warning(
                    "could not update card for approval %s in %s: %s",
                    approval_id,
                    target.channel,
                    error.response.get("error"),
                )
            else:
                accepted += 1
        return accepted == len(dict.fromkeys(targets))
