"""Approval cards in Slack: posted once, then kept true.

``ApprovalCards`` is the Slack implementation of the core's ``CardPresenter``: for a decision the
core has already recorded the card's state, and a message that cannot be rewritten is logged, never
raised past a decision Commerce already has. A card closed by the notifier is marked closed only
after Slack accepted the rewrite, so a failed rewrite is tried again next round. A decision is also
written as a reply in the card's thread (the approval's history) and then the decider's App Home is
refreshed, both in the background once the decision is recorded: neither holds up the card's rewrite.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError

from bot.commerce import persons
from bot.commerce.models import Approval, ApprovalKind, Decision, OrderSummary
from bot.commerce.persons import Registrant
from bot.messaging import Announced, MessageKey, MessageRef
from bot.slack.outbound.blocks.approval_card import approval_card, closed_card, decided_card
from bot.slack.outbound.blocks.followups import backlog_summary, decision_reply
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.poster import SlackPoster, slack_error_code
from bot.storage.records import CardRecord, CardState

log = logging.getLogger(__name__)


class CardStore(Protocol):
    """The store operations approval cards use."""

    async def thread_of(self, approval_id: str) -> MessageRef | None: ...

    async def transition_card(self, approval_id: str, from_state: CardState, to_state: CardState) -> bool: ...

    async def add_card_copy(self, approval_id: str, ref: MessageRef) -> None: ...

    async def card_copies_of(self, approval_id: str) -> list[MessageRef]: ...

    async def get_card(self, approval_id: str) -> CardRecord | None: ...


FOLLOW_UPS_DRAIN_SECONDS = 10.0

AfterDecision = Callable[[str], Coroutine[Any, Any, None]]
"""Called with the decider's user id once a decision is shown (refreshes their App Home)."""


class ApprovalCards:
    def __init__(self, store: CardStore, poster: SlackPoster) -> None:
        self._store = store
        self._poster = poster
        self._after_decision: list[AfterDecision] = []
        self._background: set[asyncio.Task[None]] = set()

    def after_decision(self, hook: AfterDecision) -> None:
        """Adds ``hook``, run in the background after each decision shown from chat."""
        self._after_decision.append(hook)

    async def posted_in(self, channel: str, *, pages: int) -> dict[str, str]:
        """The approval cards among the newest ``pages`` pages of ``channel``: approval id to ``ts``
        (from each card's metadata). Raises ``HistoryUnreadable`` when Slack will never show them."""
        return await self._poster.announced_in(channel, Announced.APPROVAL_CARD, pages=pages)

    async def post_summary(self, channel: str, approvals: Sequence[Approval]) -> MessageRef:
        """Posts one backlog summary for ``approvals`` (instead of a card each); the caller holds their
        card claims."""
        text, blocks = backlog_summary(approvals)
        return MessageRef(channel, await self._poster.post(channel, text, blocks))

    async def post(
        self,
        channel: str,
        approval: Approval,
        order: OrderSummary | None,
        key: MessageKey,
        *,
        needed: int = 1,
        registrant: Registrant | None = None,
        note: str | None = None,
    ) -> MessageRef:
        """Posts a new card with Approve/Reject buttons (saying it ``needed`` approvals when more than
        one, who registered for a buyer approval when ``registrant`` is known, and ``note``: why its
        route is what it is), ``key`` in its metadata; the caller holds the card claim. Raises
        ``PostOutcomeUnknown`` when Slack did not answer."""
        text, blocks = approval_card(
            approval, order, needed=needed, registrant=registrant, notes=_notes(note)
        )
        return MessageRef(channel, await self._poster.post(channel, text, blocks, key=key))

    async def post_copies(
        self,
        users: Sequence[str],
        approval: Approval,
        order: OrderSummary | None,
        *,
        needed: int = 1,
        registrant: Registrant | None = None,
    ) -> int:
        """Sends each of ``users`` the card as a direct message (one post each, paced by the poster)
        and records where it went, so a decision rewrites every copy; how many went. A copy Slack
        refuses, or does not confirm, is logged and skipped: the channel card stays the card."""
        text, blocks = approval_card(approval, order, needed=needed, registrant=registrant)
        sent = 0
        for user_id in dict.fromkeys(users):
            try:
                ref = await self._poster.post_direct(user_id, text, blocks)
            except Exception as error:
                log.warning(
                    "no DM copy of approval %s for %s: %s", approval.id, user_id, type(error).__name__
                )
                continue
            await self._store.add_card_copy(approval.id, ref)
            sent += 1
        return sent

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
        card = approval_card(
            approval,
            order,
            voters=voters,
            needed=needed,
            registrant=await self._registrant_of(approval),
            dropped=dropped,
            notes=_notes(note),
        )
        return await self._rewrite(approval.id, card, on)

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
        message = decided_card(
            approval,
            order=order,
            decision=decision,
            decided_by=decided_by,
            decided_at=datetime.now(UTC),
            comment=comment,
            registrant=await self._registrant_of(approval),
        )
        shown = await self._rewrite(approval.id, message, on)
        record = None if recorded is None else asyncio.ensure_future(recorded)
        reply = self._reply_in_thread(approval.id, decision, decided_by, comment, thread)
        self._in_background(_once(record, reply, unless_false=True))
        for hook in self._after_decision:
            self._in_background(_once(record, hook(decided_by)))
        return shown

    async def _reply_in_thread(
        self,
        approval_id: str,
        decision: Decision,
        decided_by: str,
        comment: str | None,
        thread: MessageRef | None,
    ) -> None:
        thread = thread or await self._store.thread_of(approval_id)
        if thread is None:
            return  # never announced: there is no thread to write in
        text, blocks = decision_reply(decision, decided_by=decided_by, comment=comment)
        await self._poster.post(thread.channel, text, blocks, thread_ts=thread.ts)

    async def drain(self) -> None:
        """Waits, at most ``FOLLOW_UPS_DRAIN_SECONDS``, for the follow-ups of decisions still running
        (at shutdown: they may have started after the server stopped taking requests)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=FOLLOW_UPS_DRAIN_SECONDS)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(_logged(work))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(
        self,
        approval_id: str,
        approval: Approval | None,
        order: OrderSummary | None,
        *,
        on: Sequence[MessageRef],
    ) -> None:
        registrant = await self._registrant_of(approval)
        await self._rewrite(approval_id, closed_card(approval_id, approval, order, registrant), on)

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
            closed_card(card.approval_id, approval, order, persons.decoded(card.registrant)),
            [MessageRef(card.channel, card.ts)],
        ):
            return False
        return await self._store.transition_card(
            card.approval_id, CardState.PENDING, CardState.DECIDED_ELSEWHERE
        )

    async def redraw_open(
        self,
        card: CardRecord,
        approval: Approval,
        order: OrderSummary | None,
        *,
        voters: Sequence[str],
        needed: int,
        note: str | None = None,
    ) -> None:
        """Rewrites an open card as it is, buttons and (two-person rule) votes so far included (with
        order details that came late); nothing for a card not posted as a message of its own."""
        if not card.channel or not card.ts:
            return
        text, blocks = approval_card(
            approval,
            order,
            voters=voters,
            needed=needed,
            registrant=persons.decoded(card.registrant),
            notes=_notes(note),
        )
        await self._poster.update(card.channel, card.ts, text, blocks)
        for copy in await self._store.card_copies_of(card.approval_id):
            await self._poster.update(copy.channel, copy.ts, text, blocks)

    async def redraw_closed(
        self, ref: MessageRef, approval_id: str, approval: Approval | None, order: OrderSummary | None
    ) -> None:
        """Rewrites a card that was posted while its approval was being decided (no state change)."""
        text, blocks = closed_card(approval_id, approval, order, await self._registrant_of(approval))
        await self._poster.update(ref.channel, ref.ts, text, blocks)

    async def _registrant_of(self, approval: Approval | None) -> Registrant | None:
        """Who registered, as the card of a buyer approval showed them when posted (kept with its row,
        so no rewrite asks Commerce again); ``None`` for an order, or a card that showed nobody."""
        if approval is None or approval.guessed_kind is not ApprovalKind.BUYER:
            return None
        card = await self._store.get_card(approval.id)
        return None if card is None else persons.decoded(card.registrant)

    async def _rewrite(self, approval_id: str, message: Message, targets: Sequence[MessageRef]) -> bool:
        """Rewrites each target, and the card's DM copies, once; whether every rewrite was accepted
        (True when there was none)."""
        first = list(dict.fromkeys(targets))
        accepted = await self._update_each(approval_id, first, message)
        # The copies are read once the card itself is rewritten: a click's update goes out without
        # waiting for that read (a round trip on PostgreSQL).
        copies = [c for c in dict.fromkeys(await self._store.card_copies_of(approval_id)) if c not in first]
        accepted += await self._update_each(approval_id, copies, message)
        return accepted == len(first) + len(copies)

    async def _update_each(self, approval_id: str, targets: Sequence[MessageRef], message: Message) -> int:
        """Rewrites each target in turn; how many rewrites Slack accepted."""
        text, blocks = message
        accepted = 0
        for target in targets:
            try:
                await self._poster.update(target.channel, target.ts, text, blocks)
            except SlackApiError as error:
                log.warning(
                    "could not update card for approval %s in %s: %s",
                    approval_id,
                    target.channel,
                    slack_error_code(error),
                )
            else:
                accepted += 1
        return accepted


async def _once(
    recorded: asyncio.Future[object] | None, work: Coroutine[Any, Any, None], *, unless_false: bool = False
) -> None:
    """Runs ``work`` once ``recorded`` is over (however it ended: a failed record is the core's to log),
    so a follow-up reads the decision as recorded. With ``unless_false``, a record that ended False
    (another round recorded the decision, and replied for it) skips ``work``."""
    try:
        if recorded is not None:
            await asyncio.wait({recorded})
    except BaseException:
        work.close()  # never started: no "never awaited" warning
        raise
    if unless_false and recorded is not None and _ended_false(recorded):
        work.close()
        return
    await work


def _ended_false(future: asyncio.Future[object]) -> bool:
    return not future.cancelled() and future.exception() is None and future.result() is False


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    """Runs follow-up work whose failure must not reach anyone but the log."""
    try:
        await work
    except SlackApiError as error:
        log.warning("a follow-up to a decision failed: Slack answered %s", slack_error_code(error))
    except Exception:
        log.exception("a follow-up to a decision failed")


def _notes(note: str | None) -> tuple[str, ...]:
    return () if note is None else (note,)
