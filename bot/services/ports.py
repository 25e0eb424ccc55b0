"""What the decision core needs from the chat side, as small typed interfaces.

The core calls these and never renders or sends anything itself; the Slack side implements them
(``bot.slack.outbound``), as teleport's access plugins implement ``MessagingBot``. Implementations
satisfy them structurally, so the chat side never imports the core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Protocol

from bot.commerce.models import Approval, Decision, OrderSummary
from bot.messaging import MessageRef


class ApproverDirectory(Protocol):
    """Who may decide approvals."""

    async def is_approver(self, user_id: str) -> bool:
        """Whether ``user_id`` may approve or reject; unknown or unreadable means no. May be cached."""
        ...

    async def confirms(self, user_id: str) -> bool:
        """The same question at the moment of deciding: answered from the source, never a cache."""
        ...


class CardPresenter(Protocol):
    """Shows what happened to an approval on the messages that show it (its card, the one clicked).

    The store's card state is the core's business; a presenter only rewrites messages, and a message
    it cannot rewrite is logged, never raised.
    """

    async def show_decision(
        self,
        approval: Approval,
        order: OrderSummary | None,
        *,
        decision: Decision,
        decided_by: str,
        comment: str | None,
        on: Sequence[MessageRef],
        recorded: Awaitable[object] | None = None,
    ) -> bool:
        """The approval was decided from chat by ``decided_by``: show who, when and why. Whether every
        message in ``on`` was rewritten (True when there was none). Follow-ups that read the store
        (the thread reply, the decider's App Home) wait for ``recorded``, the decision's record."""
        ...

    async def close(
        self,
        approval_id: str,
        approval: Approval | None,
        order: OrderSummary | None,
        *,
        on: Sequence[MessageRef],
    ) -> None:
        """The approval is no longer pending in Commerce (``approval=None``: gone): no more buttons."""
        ...
