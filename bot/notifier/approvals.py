"""Lists pending Commerce approvals: offers the new ones to the announcer, closes cards decided in Commerce.

Only a complete listing of pending approvals proves that an open card is no longer pending; card
closings are budgeted to chat.update's rate limit. When one round finds more new approvals for a
channel than the backlog limit (a first start, or after an outage), they are all claimed and
announced by one summary message instead of a card each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable

from bot.commerce.client import DEFAULT_LISTING_PAGE_SIZE, CommerceClient
from bot.commerce.models import Approval, ApprovalKind, ApprovalState
from bot.logging_setup import log_context
from bot.metrics import Metrics
from bot.notifier.announcements import CardAnnouncer, NewCard
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.services.decisions import DecisionService, as_its_card_showed
from bot.services.order_details import OrderDetails
from bot.services.routing import ApprovalRouting, OrderUnreadable, Routes
from bot.slack.outbound.cards import ApprovalCards
from bot.storage.records import CardRecord
from bot.storage.store import Store

log = logging.getLogger(__name__)

CHAT_UPDATES_PER_MINUTE = 50
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
        announcer: CardAnnouncer,
        decisions: DecisionService,
        order_details: OrderDetails,
        interval_seconds: float = 30.0,
        page_size: int = DEFAULT_LISTING_PAGE_SIZE,
        channel: str,
        routes: Routes | None = None,
        backlog_limit: int = DEFAULT_BACKLOG_LIMIT,
    ) -> None:
        """Cards go where ``routes`` send them; without routes, all to ``channel``."""
        self._commerce = commerce
        self._store = store
        self._cards = cards
        self._metrics = metrics
        self._announcer = announcer
        self._decisions = decisions
        self._order_details = order_details
        self.interval_seconds = interval_seconds
        self._page_size = page_size
        self._routing = ApprovalRouting(routes or Routes.only(channel), commerce, order_details)
        self._backlog_limit = backlog_limit
        # chat.update is Tier 3 (about 50 a minute): closing cards uses at most that share of a round.
        self._close_budget = max(1, int(CHAT_UPDATES_PER_MINUTE * interval_seconds / 60))

    async def poll_once(self) -> int:
        """One round: offers new approvals to the announcer (or, past the backlog limit, announces them in
        one summary), closes cards decided in Commerce. Returns the summaries posted: cards go out
        through the announcer, off this loop."""
        await self._store.release_stale_card_claims()
        pending: dict[str, Approval] = {}
        complete = True
        for kind in (ApprovalKind.ORDER, ApprovalKind.BUYER):
            listing = await self._commerce.list_every_approval(
                kind, ApprovalState.PENDING, page_size=self._page_size
            )
            complete = complete and listing.complete
            for approval in listing.items:
                pending.setdefault(approval.id, approval)
        known = await self._store.known_card_ids(pending)
        unannounced: dict[str, NewCard] = {}
        summaries = failures = 0
        for channel, new in (await self._new_by_channel(pending.values(), known)).items():
            if len(new) <= self._backlog_limit:
                unannounced.update((card.approval.id, card) for card in new)
                continue
            try:
                summaries += await asyncio.shield(self._post_summary(channel, [c.approval for c in new]))
            except Exception as error:
                log.warning("could not post the summary of %d approvals: %s", len(new), describe(error))
                failures += 1
        self._announcer.offer(unannounced, complete=complete)
        if complete:
            await self._close_decided_cards(pending)
        else:
            self._metrics.listings_incomplete.inc()
            log.warning("the pending listing was incomplete: no card is closed this round")
        if failures:
            raise NotifierRoundIncomplete(
                f"{failures} backlog summary could not be posted; retried next round"
            )
        return summaries

    async def _new_by_channel(
        self, pending: Iterable[Approval], known: Collection[str]
    ) -> dict[str, list[NewCard]]:
        """The approvals without a card row, routed, by the channel their card goes to. One whose route
        depends on an order that cannot be read waits for a later round (never the wrong channel)."""
        by_channel: dict[str, list[NewCard]] = {}
        for approval in pending:
            if approval.id in known:
                continue
            try:
                route, order = await self._routing.route_of(approval)
            except OrderUnreadable as error:
                log.warning(
                    "no card for approval %s yet: %s, and its route depends on it", approval.id, error
                )
                continue
            card = NewCard(approval, route.channel, route.approvals_needed(approval, order))
            by_channel.setdefault(route.channel, []).append(card)
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

    async def _close_decided_cards(self, pending: Collection[str]) -> None:
        """Closes open cards missing from a complete listing, at most ``_close_budget`` a round
        (``chat.update`` is rate limited); the rest wait for the next round."""
        budget = self._close_budget
        for card in await self._store.open_cards():
            if budget == 0:
                log.info("card closing budget spent; the other cards are closed next round")
                return
            if card.approval_id in pending or await self._store.decision_under_way(card.approval_id):
                continue
            budget -= 1
            with log_context(approval_id=card.approval_id):
                try:
                    await self._close_card(card)
                except Exception as error:
                    log.warning(
                        "could not close the card of approval %s: %s", card.approval_id, describe(error)
                    )

    async def _close_card(self, card: CardRecord) -> None:
        approval = await self._commerce.find_approval(card.approval_id)
        if approval is not None:
            approval = as_its_card_showed(approval, card)
        if approval is not None and approval.is_pending:
            return  # listed late; still open
        if approval is not None and await self._decisions.settle(approval):
            # Decided from Slack, but the answer was lost (a timeout, a crash): credited to its user.
            self._metrics.cards_closed.inc()
            return
        order = await self._order_details.for_approval(approval)
        if await self._cards.close_if_open(card, approval, order):
            self._metrics.cards_closed.inc()
