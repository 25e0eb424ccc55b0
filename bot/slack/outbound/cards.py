"""Approval cards in Slack: posted once, then kept true, with the store's card row moved in step.

``ApprovalCards`` is the Slack implementation of the core's ``CardPresenter``. A card's state in
the store changes before its message is rewritten; a message that cannot be rewritten is logged and
left for the next poll or click, never raised past a decision that Commerce already has.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError

from bot.commerce.models import Approval, Decision, OrderSummary
from bot.messaging import MessageRef
from bot.slack.outbound.blocks.approval_card import approval_card, closed_card, decided_card
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.poster import SlackPoster
from bot.storage.records import CardState
from bot.storage.store import Store

log = logging.getLogger(__name__)

DECIDED_STATE = {Decision.APPROVE: CardState.APPROVED, Decision.REJECT: CardState.REJECTED}


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
        clicked: MessageRef | None,
    ) -> None:
        message = decided_card(
            approval,
            order=order,
            decision=decision,
            decided_by=decided_by,
            decided_at=datetime.now(UTC),
            comment=comment,
        )
        await self._store.set_card_state(approval.id, DECIDED_STATE[decision])
        await self._rewrite(approval.id, message, clicked)

    async def close(
        self,
        approval_id: str,
        approval: Approval | None,
        order: OrderSummary | None,
        *,
        clicked: MessageRef | None,
    ) -> None:
        await self._store.set_card_state(approval_id, CardState.DECIDED_ELSEWHERE)
        await self._rewrite(approval_id, closed_card(approval_id, approval, order), clicked)

    async def close_if_open(
        self, approval_id: str, approval: Approval | None, order: OrderSummary | None
    ) -> bool:
        """Closes the card only while it is still PENDING: a decision recorded from Slack is never
        overwritten. Returns whether the card was closed."""
        if not await self._store.transition_card(approval_id, CardState.PENDING, CardState.DECIDED_ELSEWHERE):
            return False
        return await self._rewrite(approval_id, closed_card(approval_id, approval, order), None)

    async def redraw_closed(
        self, ref: MessageRef, approval_id: str, approval: Approval | None, order: OrderSummary | None
    ) -> None:
        """Rewrites a card that was posted while its approval was being decided (no state change)."""
        text, blocks = closed_card(approval_id, approval, order)
        await self._poster.update(ref.channel, ref.ts, text, blocks)

    async def _rewrite(self, approval_id: str, message: Message, clicked: MessageRef | None) -> bool:
        """Rewrites the stored card and the clicked message (once each); whether there was any."""
        card = await self._store.get_card(approval_id)
        targets: list[MessageRef] = []
        if card is not None and card.channel and card.ts:
            targets.append(MessageRef(card.channel, card.ts))
        if clicked is not None and clicked not in targets:
            targets.append(clicked)
        text, blocks = message
        for target in targets:
            try:
                await self._poster.update(target.channel, target.ts, text, blocks)
            except SlackApiError as error:
                log.warning(
                    "could not update card for approval %s in %s: %s",
                    approval_id,
                    target.channel,
                    error.response.get("error"),
                )
        return bool(targets)
