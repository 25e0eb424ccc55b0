"""Posts new approval cards off the poll loop, oldest offered first, paced per channel by the poster.

Each card goes to the channel its route names (the approvals poll routes it when offering it).

The approvals poll offers what is pending and has no card yet, and goes on polling on its own
interval however long the queue is. Each card is claimed in the store just before it is posted (one
post across replicas) and carries the approval id in its metadata. A post Slack definitely refused
releases the claim and the next listing offers it again; a post with no answer keeps the claim and
leaves a post attempt for the ``PostReconciler``, which finds the card in the channel (``adopt``) or
releases it (``release``). An approval missing from the latest complete listing is dropped from the
queue before it is posted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.commerce import persons
from bot.commerce.client import CommerceClient
from bot.commerce.models import Approval, OrderSummary
from bot.commerce.persons import Registrant
from bot.logging_setup import log_context
from bot.messaging import Announced, MessageKey, MessageRef
from bot.metrics import Metrics
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.notifier.reconcile import PostingStore, posting
from bot.services.order_details import OrderDetails, Registrants, encoded
from bot.shielded import shielded
from bot.slack.outbound.cards import ApprovalCards

log = logging.getLogger(__name__)


class AnnouncementStore(PostingStore, Protocol):
    """The store operations the card announcer uses."""

    async def card_posted(
        self,
        approval_id: str,
        channel: str,
        ts: str,
        *,
        submitter_name: str | None = None,
        order_details: str | None = None,
        registrant: str | None = None,
        organization_id: str | None = None,
    ) -> bool: ...

    async def claim_card(self, approval_id: str, kind: str) -> bool: ...

    async def end_post(self, kind: str, subject_id: str) -> None: ...

    async def release_card(self, approval_id: str) -> None: ...

    async def start_post(
        self, kind: str, subject_id: str, channel: str, *, thread_ts: str | None = None
    ) -> None: ...


ANNOUNCE_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class NewCard:
    """An approval to announce, where its route sends it, and how many approvals it needs."""

    approval: Approval
    channel: str
    needed: int = 1
    dm_to: tuple[str, ...] = ()
    """Approvers who also get the card as a direct message (a route's ``notify: dm``)."""
    note: str | None = None
    """Why its route is what it is, said on the card (an order total in a currency no limit names)."""


class CardAnnouncer:
    name = "announcements"
    announces = Announced.APPROVAL_CARD

    def __init__(
        self,
        commerce: CommerceClient,
        store: AnnouncementStore,
        cards: ApprovalCards,
        metrics: Metrics,
        *,
        order_details: OrderDetails,
        registrants: Registrants | None = None,
        interval_seconds: float = ANNOUNCE_INTERVAL_SECONDS,
        retry_seconds: float = ANNOUNCE_INTERVAL_SECONDS,
    ) -> None:
        """``registrants``: who registered, for buyer cards (by default read with ``commerce``)."""
        self._commerce = commerce
        self._store = store
        self._cards = cards
        self._metrics = metrics
        self._order_details = order_details
        self._registrants = registrants or Registrants(commerce)
        self.interval_seconds = interval_seconds
        self.retry_seconds = retry_seconds
        """A card not posted comes back with the next approvals listing (the approvals poll interval)."""
        self.idle = True
        """The latest round had no card to post."""
        self._queue: dict[str, NewCard] = {}

    def __len__(self) -> int:
        """Cards waiting to be posted."""
        return len(self._queue)

    def offer(self, unannounced: Mapping[str, NewCard], *, complete: bool) -> None:
        """Queues approvals that have no card yet. With a ``complete`` listing, queued approvals
        missing from it are no longer pending (or already have a card) and are dropped."""
        if complete:
            for approval_id in [i for i in self._queue if i not in unannounced]:
                del self._queue[approval_id]
        for approval_id, card in unannounced.items():
            self._queue.setdefault(approval_id, card)

    async def poll_once(self) -> int:
        """Posts every queued card; returns how many were posted."""
        posted = failures = 0
        self.idle = not self._queue
        while self._queue:
            # The next cards' order details are asked for while this one is posted (a bounded window).
            self._order_details.prefetch(queued.approval for queued in self._queue.values())
            self._registrants.prefetch(queued.approval for queued in self._queue.values())
            approval_id = next(iter(self._queue))
            card = self._queue.pop(approval_id)
            with log_context(approval_id=approval_id):
                try:
                    # A shutdown must not cut a post off between Slack and the store (that would post twice).
                    posted += await shielded(
                        self._post_card(card), f"the card of approval {approval_id}", describe
                    )
                except Exception as error:
                    log.warning("could not post the card for approval %s: %s", approval_id, describe(error))
                    failures += 1
        if failures:
            raise NotifierRoundIncomplete(f"{failures} card(s) not posted or unanswered; retried or checked")
        return posted

    async def _post_card(self, card: NewCard) -> int:
        """Posts the card unless another poller claimed it first. A definite failure releases the claim;
        no answer keeps it, for the reconciler to settle."""
        approval = card.approval
        if not await self._store.claim_card(approval.id, approval.guessed_kind.value):
            return 0
        kind = self.announces.value
        async with posting(self._store, self, approval.id):
            order = await self._order_details.for_approval(approval)
            registrant = await self._registrants.for_approval(approval)
            await self._store.start_post(kind, approval.id, card.channel)
            key = MessageKey(self.announces, approval.id)
            ref = await self._cards.post(
                card.channel,
                approval,
                order,
                key,
                needed=card.needed,
                registrant=registrant,
                note=card.note,
            )
        self._metrics.cards_posted.inc()
        await self._record(
            approval.id, ref, submitter_name=approval.submitter_name, order=order, registrant=registrant
        )
        if card.dm_to:
            await self._cards.post_copies(
                card.dm_to, approval, order, needed=card.needed, registrant=registrant
            )
        return 1

    def message_key(self, subject_id: str) -> MessageKey:
        return MessageKey(self.announces, subject_id)

    async def adopt(self, approval_id: str, ref: MessageRef) -> None:
        """A card whose answer was lost turned out to be in the channel: it is the card."""
        await self._record(approval_id, ref, submitter_name=None, order=None)

    async def release(self, approval_id: str) -> None:
        """A card whose answer was lost is not in the channel: the next listing offers it again."""
        await self._store.end_post(self.announces.value, approval_id)
        await self._store.release_card(approval_id)

    async def _record(
        self,
        approval_id: str,
        ref: MessageRef,
        *,
        submitter_name: str | None,
        order: OrderSummary | None,
        registrant: Registrant | None = None,
    ) -> None:
        shown = registrant or order  # whichever the card shows names its buyer organization
        posted = await self._store.card_posted(
            approval_id,
            ref.channel,
            ref.ts,
            submitter_name=submitter_name,
            order_details=None if order is None else encoded(order),
            registrant=None if registrant is None else persons.encoded(registrant),
            organization_id=shown.organization_id if shown is not None else None,
        )
        await self._store.end_post(self.announces.value, approval_id)
        if not posted:
            # Decided from Slack while the card was being posted: show how it ended, not buttons.
            current = await self._commerce.find_approval(approval_id)
            order = await self._order_details.for_approval(current)
            await self._cards.redraw_closed(ref, approval_id, current, order)
