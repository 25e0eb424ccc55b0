"""Lists pending Commerce approvals: offers the new ones to the announcer, closes cards decided in Commerce.

Only a complete listing of pending approvals proves that an open card is no longer pending; card
closings are budgeted to chat.update's rate limit. The listing is handled a page at a time: of the
approvals already announced only their ids are kept, so a round's memory grows by an id, not an
approval, per pending approval. When one round finds more new approvals for a
channel than the backlog limit (a first start, or after an outage), they are all claimed and
announced by one summary message instead of a card each.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.commerce.client import DEFAULT_LISTING_PAGE_SIZE, CommerceClient
from bot.commerce.models import Approval, ApprovalKind, ApprovalState, OrderSummary
from bot.logging_setup import log_context
from bot.messaging import MessageRef
from bot.metrics import Metrics
from bot.notifier.announcements import CardAnnouncer, NewCard
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.services.decisions import DecisionService, as_its_card_showed
from bot.services.order_details import OrderDetails, encoded
from bot.services.routing import ApprovalRouting, OrderUnreadable, Routes
from bot.shielded import shielded
from bot.slack.outbound.cards import ApprovalCards
from bot.storage.records import CardRecord, CardState

log = logging.getLogger(__name__)


class ListingStore(Protocol):
    """The store operations the approvals poll uses."""

    async def card_shows_order_details(
        self, approval_id: str, order_details: str, organization_id: str | None
    ) -> None: ...

    async def cards_summarised(self, approval_ids: Collection[str], channel: str, ts: str) -> None: ...

    async def claim_card(self, approval_id: str, kind: str) -> bool: ...

    async def claim_cards(self, kinds: Mapping[str, str]) -> list[str]: ...

    async def decision_under_way(self, approval_id: str) -> bool: ...

    async def get_card(self, approval_id: str) -> CardRecord | None: ...

    async def known_card_ids(self, approval_ids: Collection[str]) -> set[str]: ...

    async def open_cards_page(self, *, after: str | None, limit: int) -> list[CardRecord]: ...

    async def release_cards(self, approval_ids: Collection[str]) -> None: ...

    async def release_stale_card_claims(self) -> list[str]: ...

    async def voters(self, approval_id: str) -> list[str]: ...


CHAT_UPDATES_PER_MINUTE = 50
OPEN_CARDS_PAGE = 1000
"""Open cards read per query while a round looks for those to close."""
ADOPT_HISTORY_PAGES = 5
"""How far back a channel is searched for cards already there, once per process (1,000 messages)."""
DEFAULT_BACKLOG_LIMIT = 20


@dataclass(frozen=True)
class ListingPolicy:
    """Where new cards go (``routes``; without routes, all to ``channel``) and how the listing runs."""

    channel: str
    routes: Routes | None = None
    interval_seconds: float = 30.0
    page_size: int = DEFAULT_LISTING_PAGE_SIZE
    backlog_limit: int = DEFAULT_BACKLOG_LIMIT
    """More new approvals than this in one channel are announced with one summary."""


@dataclass
class _Listing:
    """What a round keeps of the pending listing: every id, the new approvals by the channel their card
    goes to, the approvals whose order details came late, and whether the listing was read whole."""

    pending: set[str] = field(default_factory=set)
    new_by_channel: dict[str, list[NewCard]] = field(default_factory=dict)
    late: dict[str, Approval] = field(default_factory=dict)
    complete: bool = True


class ApprovalsNotifier:
    name = "approvals"

    def __init__(
        self,
        commerce: CommerceClient,
        store: ListingStore,
        cards: ApprovalCards,
        metrics: Metrics,
        *,
        announcer: CardAnnouncer,
        decisions: DecisionService,
        order_details: OrderDetails,
        policy: ListingPolicy,
    ) -> None:
        self._commerce = commerce
        self._store = store
        self._cards = cards
        self._metrics = metrics
        self._announcer = announcer
        self._decisions = decisions
        self._order_details = order_details
        self.interval_seconds = policy.interval_seconds
        self._page_size = policy.page_size
        self._routing = ApprovalRouting(policy.routes or Routes.only(policy.channel), commerce, order_details)
        self._backlog_limit = policy.backlog_limit
        self._searched_channels: set[str] = set()  # looked in for cards already posted (once each)
        # chat.update is Tier 3 (about 50 a minute): closing cards uses at most that share of a round.
        self._close_budget = max(1, int(CHAT_UPDATES_PER_MINUTE * policy.interval_seconds / 60))

    async def poll_once(self) -> int:
        """One round: offers new approvals to the announcer (or, past the backlog limit, announces them in
        one summary), closes cards decided in Commerce. Returns the summaries posted: cards go out
        through the announcer, off this loop."""
        await self._store.release_stale_card_claims()
        # Taken before the listing, so only their approvals are kept from it (details that come
        # meanwhile are handed out next round).
        late_details = self._order_details.arrived()
        listing = await self._read_listing(late_details)
        unannounced: dict[str, NewCard] = {}
        summaries = failures = 0
        new_by_channel = await self._adopt_cards_already_posted(listing.new_by_channel)
        for channel, new in new_by_channel.items():
            if len(new) <= self._backlog_limit:
                unannounced.update((card.approval.id, card) for card in new)
                continue
            try:
                summary = self._post_summary(channel, [c.approval for c in new])
                summaries += await shielded(summary, f"the summary in {channel}", describe)
            except Exception as error:
                log.warning("could not post the summary of %d approvals: %s", len(new), describe(error))
                failures += 1
        # all at once: their budget starts now
        self._order_details.prefetch(card.approval for card in unannounced.values())
        self._announcer.offer(unannounced, complete=listing.complete)
        if listing.complete:
            await self._close_decided_cards(listing.pending)
        else:
            self._metrics.listings_incomplete.inc()
            log.warning("the pending listing was incomplete: no card is closed this round")
        await self._fill_in_order_details(late_details, listing.late)
        if failures:
            raise NotifierRoundIncomplete(
                f"{failures} backlog summary could not be posted; retried next round"
            )
        return summaries

    async def _read_listing(self, late_details: Collection[str]) -> _Listing:
        """Both kinds of pending approvals, a page at a time: each page's new approvals are routed as
        it comes, and of the rest only their ids are kept (and the approvals of ``late_details``)."""
        listing = _Listing()
        for kind in (ApprovalKind.ORDER, ApprovalKind.BUYER):
            pages = self._commerce.approval_pages(kind, ApprovalState.PENDING, page_size=self._page_size)
            async for page in pages:
                fresh = [a for a in page if a.id not in listing.pending]
                listing.pending.update(a.id for a in fresh)
                listing.late.update((a.id, a) for a in fresh if a.id in late_details)
                known = await self._store.known_card_ids([a.id for a in fresh])
                for channel, new in (await self._new_by_channel(fresh, known)).items():
                    listing.new_by_channel.setdefault(channel, []).extend(new)
            listing.complete = listing.complete and pages.complete
        return listing

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
            except OrderUnreadable:  # logged by the routing; tried again next round
                continue
            card = NewCard(
                approval,
                route.channel,
                route.approvals_needed(approval, order),
                route.dm_recipients,
                note=self._routing.routes.currency_note(order),
            )
            by_channel.setdefault(route.channel, []).append(card)
        return by_channel

    async def _adopt_cards_already_posted(
        self, by_channel: dict[str, list[NewCard]]
    ) -> dict[str, list[NewCard]]:
        """The first time this process has new approvals for a channel, it looks there for their cards
        (a database that started empty, or was restored from an older backup, has no row for cards
        that are in the channel): each found is recorded as the approval's card, not posted again.
        Returns the new approvals still without a card. A history Slack will not show is logged and
        the cards are posted (a second card is better than none)."""
        still_new: dict[str, list[NewCard]] = {}
        for channel, new in by_channel.items():
            if channel in self._searched_channels:
                still_new[channel] = new
                continue
            try:
                posted = await self._cards.posted_in(channel, pages=ADOPT_HISTORY_PAGES)
            except Exception as error:
                log.warning("could not look for cards already in %s: %s", channel, describe(error))
                posted = {}
            self._searched_channels.add(channel)
            for card in new:
                ts = posted.get(card.approval.id)
                if ts is not None and await self._store.claim_card(
                    card.approval.id, card.approval.guessed_kind.value
                ):
                    await self._announcer.adopt(card.approval.id, MessageRef(channel, ts))
                    log.info("approval %s: its card was already in %s, adopted", card.approval.id, channel)
            remaining = [card for card in new if card.approval.id not in posted]
            if remaining:
                still_new[channel] = remaining
        return still_new

    async def _post_summary(self, channel: str, approvals: list[Approval]) -> int:
        """Claims every card, then posts one summary for those this poller claimed; a failed post
        releases the claims."""
        claimed_ids = set(await self._store.claim_cards({a.id: a.guessed_kind.value for a in approvals}))
        claimed = [a for a in approvals if a.id in claimed_ids]
        if not claimed:
            return 0
        try:
            ref = await self._cards.post_summary(channel, claimed)
        except BaseException:
            await self._store.release_cards(claimed_ids)
            raise
        await self._store.cards_summarised([a.id for a in claimed], ref.channel, ref.ts)
        self._metrics.followups.labels("backlog_summary").inc()
        log.info("%d new approvals announced in one summary in %s", len(claimed), channel)
        return 1

    async def _close_decided_cards(self, pending: Collection[str]) -> None:
        """Closes open cards missing from a complete listing, at most ``_close_budget`` a round
        (``chat.update`` is rate limited); the rest wait for the next round. The approvals are re-read
        first and their orders' details asked for together: a slow order endpoint costs the round one
        details budget, not one per card."""
        reread: list[tuple[CardRecord, Approval | None]] = []
        for card in await self._cards_to_close(pending):
            with log_context(approval_id=card.approval_id):
                try:
                    reread.append((card, await self._reread(card)))
                except Exception as error:
                    log.warning(
                        "could not close the card of approval %s: %s", card.approval_id, describe(error)
                    )
        self._order_details.prefetch(approval for _, approval in reread)
        for card, approval in reread:
            with log_context(approval_id=card.approval_id):
                try:
                    await self._close_card(card, approval)
                except Exception as error:
                    log.warning(
                        "could not close the card of approval %s: %s", card.approval_id, describe(error)
                    )

    async def _cards_to_close(self, pending: Collection[str]) -> list[CardRecord]:
        """Open cards whose approvals are no longer pending and not being decided, oldest first, at most
        ``_close_budget``. Open cards are read a page at a time and only the oldest few missing from
        ``pending`` are kept; when some of those are being decided, the next oldest take their place."""
        closing: list[CardRecord] = []
        deciding: set[str] = set()
        while True:
            passed = {*deciding, *(card.approval_id for card in closing)}
            oldest, more = await self._oldest_not_pending(pending, passed, self._close_budget - len(closing))
            for card in oldest:
                if await self._store.decision_under_way(card.approval_id):
                    deciding.add(card.approval_id)
                else:
                    closing.append(card)
            if len(closing) == self._close_budget and more:
                log.info("card closing budget spent; the other cards are closed next round")
            if len(closing) == self._close_budget or not more:
                return sorted(closing, key=_oldest_first)

    async def _oldest_not_pending(
        self, pending: Collection[str], passed: Collection[str], count: int
    ) -> tuple[list[CardRecord], bool]:
        """The ``count`` oldest open cards in neither ``pending`` nor ``passed``, and whether there are
        more of them."""
        oldest: list[CardRecord] = []
        missing = 0
        after: str | None = None
        while True:
            page = await self._store.open_cards_page(after=after, limit=OPEN_CARDS_PAGE)
            found = [c for c in page if c.approval_id not in pending and c.approval_id not in passed]
            missing += len(found)
            oldest = heapq.nsmallest(count, [*oldest, *found], key=_oldest_first)
            if len(page) < OPEN_CARDS_PAGE:
                return oldest, missing > count
            after = page[-1].approval_id

    async def _reread(self, card: CardRecord) -> Approval | None:
        """The card's approval as Commerce has it now (with what the card knew); ``None`` when gone."""
        approval = await self._commerce.find_approval(card.approval_id)
        return None if approval is None else as_its_card_showed(approval, card)

    async def _close_card(self, card: CardRecord, approval: Approval | None) -> None:
        if approval is not None and approval.is_pending:
            return  # listed late; still open
        if approval is not None and await self._decisions.settle(approval):
            # Decided from Slack, but the answer was lost (a timeout, a crash): credited to its user.
            self._metrics.cards_closed.inc()
            return
        order = await self._order_details.for_approval(approval)
        if await self._cards.close_if_open(card, approval, order):
            self._metrics.cards_closed.inc()

    async def _fill_in_order_details(
        self, arrived: Mapping[str, OrderSummary], pending: Mapping[str, Approval]
    ) -> None:
        """Rewrites open cards that went out without their order's details, now that those came, with
        the votes so far when the two-person rule applies (routed as a decision routes it).

        Only a card still open, still pending in Commerce and with no decision under way is
        rewritten; closing cards runs before this in the same task, and a decision from Slack
        rewrites its card only after two Commerce calls that follow its claim."""
        for approval_id, order in arrived.items():
            approval = pending.get(approval_id)
            if approval is None:
                continue
            with log_context(approval_id=approval_id):
                try:
                    card = await self._store.get_card(approval_id)
                    if card is None or card.state is not CardState.PENDING:
                        continue
                    if await self._store.decision_under_way(approval_id):
                        continue
                    route = self._routing.routes.route_for(approval, order)
                    needed = route.approvals_needed(approval, order)
                    voters = await self._store.voters(approval_id) if needed > 1 else []
                    await self._cards.redraw_open(
                        card,
                        as_its_card_showed(approval, card),
                        order,
                        voters=voters,
                        needed=needed,
                        note=self._routing.routes.currency_note(order),
                    )
                    await self._store.card_shows_order_details(
                        approval_id, encoded(order), order.organization_id
                    )
                except Exception as error:
                    log.warning(
                        "could not add the order's details to the card of approval %s: %s",
                        approval_id,
                        describe(error),
                    )


def _oldest_first(card: CardRecord) -> tuple[bool, float, float, str]:
    """Cards in the order the store lists open cards: by when posted (none first), updated, id."""
    posted = card.posted_at.timestamp() if card.posted_at is not None else 0.0
    updated = card.updated_at.timestamp() if card.updated_at is not None else 0.0
    return card.posted_at is not None, posted, updated, card.approval_id
