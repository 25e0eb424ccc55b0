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
    """Who may decide approvals: ``approvers`` is a route's own list (user and user-group ids), ``None``
    the bot-wide list (``APPROVERS``)."""

    async def is_approver(self, user_id: str, approvers: Sequence[str] | None = None) -> bool:
        """Whether ``user_id`` may approve or reject; unknown or unreadable means no. May be cached."""
        ...

    async def confirms(self, user_id: str, approvers: Sequence[str] | None = None) -> bool:
        """The same question at the moment of deciding: answered from the source, never a cache."""
        ...

    async def is_any_approver(self, user_id: str) -> bool:
        """Whether ``user_id`` may decide some approvals (of any route). May be cached."""
        ...

    async def members(self, approvers: Sequence[str] | None = None, *, read_groups: bool = True) -> set[str]:
        """Every user who may decide for ``approvers`` (groups expanded), read from the source now;
        without ``read_groups`` only the users listed by id (the source is not asked)."""
        ...

    def groups(self, approvers: Sequence[str] | None = None) -> tuple[str, ...]:
        """The user groups ``approvers`` lists."""
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
        thread: MessageRef | None = None,
    ) -> bool:
        """The approval was decided from chat by ``decided_by``: show who, when and why. Whether every
        message in ``on`` was rewritten (True when there was none). Follow-ups that read the store
        (the thread reply, the decider's App Home) wait for ``recorded``, the decision's record; a
        record that ends False (another round recorded the decision first) gets no thread reply.
        ``thread``: the message whose thread is the approval's history, when the caller knows it
        (its posted card); else the presenter looks it up."""
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

    async def show_votes(
        self,
        approval: Approval,
        order: OrderSummary | None,
        *,
        voters: Sequence[str],
        needed: int,
        on: Sequence[MessageRef],
        dropped: Sequence[str] = (),
        note: str | None = None,
    ) -> bool:
        """The two-person rule: ``voters`` approved so far, ``needed`` must; the buttons stay.
        ``dropped``: earlier voters whose votes no longer count (no longer approvers), said on the card;
        ``note``: why the approval's route is what it is (as on the posted card).
        Whether every message in ``on`` was rewritten."""
        ...


class UserEmails(Protocol):
    """The e-mail address a chat user signed up with, for linking them to Commerce by e-mail."""

    async def email_of(self, user_id: str) -> str | None:
        """``user_id``'s e-mail address, only when the chat confirmed it belongs to them; ``None`` when
        unconfirmed, unknown or not readable (a missing scope)."""
        ...


class UserNotices(Protocol):
    """Tells one chat user something that concerns them alone (a new identity link, a dropped vote)."""

    async def tell(self, user_id: str, text: str) -> bool:
        """Sends ``text`` to ``user_id`` privately; whether it was delivered (a failure is logged)."""
        ...
