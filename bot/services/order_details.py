"""Best-effort details for approval cards (an order's summary, a buyer's registrant): never holding them up.

Invariant: nobody waits on an order's details longer than ``budget_seconds`` from when they were
first asked for (a whole round's orders are asked for at once, so a hanging order endpoint costs a
round one budget, not one per card). Fetches run in the background, at most ``max_concurrent`` at a
time, each given up after ``timeout`` seconds; details that arrive after their card went out without
them are handed out once by :meth:`OrderDetails.arrived`, for the card to be filled in.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Generic, TypeVar

from bot.commerce.client import CommerceClient
from bot.commerce.errors import CommerceError, OrderNotFound
from bot.commerce.models import Approval, ApprovalKind, OrderSummary
from bot.commerce.persons import Registrant
from bot.storage.records import CardRecord

log = logging.getLogger(__name__)
T = TypeVar("T")

ORDER_DETAILS_BUDGET_SECONDS = 2.0
"""Longest a card (or a decision's card update) waits for its order's details."""
ORDER_DETAILS_TIMEOUT_SECONDS = 10.0
"""Longest one fetch of an order's details (retries included) runs in the background."""
ORDER_DETAILS_CONCURRENCY = 4
"""Order reads at once: a round's orders are fetched together, but never flood Commerce."""
ORDER_DETAILS_PREFETCH = 100
"""How far ahead of the cards being posted orders are asked for: the next 100 cards in line (the
announcer moves the window along as it posts). Asking for a backlog of thousands at once would flood
the event loop with fetches whose details are forgotten before their cards go out (cards are paced,
one a second per channel)."""
FORGET_AFTER_SECONDS = 600.0
"""Details fetched but never asked for again (the approval went away) are dropped after this."""


@dataclass
class _Fetch(Generic[T]):
    task: asyncio.Task[T | None]
    started: float
    late: bool = False
    """Its card went out without the details."""


class BestEffortReads(Generic[T]):
    """Reads about approvals a card shows when they come in time (``for_approval``), fetched in the
    background, at most ``max_concurrent`` at a time; what each approval needs is said by
    :meth:`_wants` and read by :meth:`_load`."""

    what = "details"

    def __init__(
        self,
        commerce: CommerceClient,
        *,
        budget_seconds: float = ORDER_DETAILS_BUDGET_SECONDS,
        timeout: float = ORDER_DETAILS_TIMEOUT_SECONDS,
        max_concurrent: int = ORDER_DETAILS_CONCURRENCY,
        prefetch_limit: int = ORDER_DETAILS_PREFETCH,
    ) -> None:
        self._commerce = commerce
        self._budget = budget_seconds
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_concurrent)
        self._prefetch_limit = prefetch_limit
        self._fetches: dict[str, _Fetch[T]] = {}

    def _wants(self, approval: Approval) -> bool:
        raise NotImplementedError

    async def _load(self, approval: Approval) -> T:
        raise NotImplementedError

    def prefetch(self, approvals: Iterable[Approval | None]) -> None:
        """Starts fetching now the details of the approvals among the first ``prefetch_limit`` of
        ``approvals`` that need them (their budget starts now too), those not fetched yet; the cards
        then take them with :meth:`for_approval`, which fetches any not asked for ahead."""
        for approval in islice(approvals, self._prefetch_limit):
            self._fetch(approval)

    async def for_approval(self, approval: Approval | None) -> T | None:
        """The details of ``approval``; ``None`` when it needs none, for no approval (Commerce no
        longer has it), on any failure, or when the budget ran out first (the fetch goes on, and
        :meth:`arrived` hands the details out if they come)."""
        fetch = self._fetch(approval)
        if fetch is None or approval is None:
            return None
        if not fetch.task.done():
            remaining = fetch.started + self._budget - asyncio.get_running_loop().time()
            await asyncio.wait({fetch.task}, timeout=max(remaining, 0.0))
        if fetch.task.done():
            if self._fetches.get(approval.id) is fetch:
                del self._fetches[approval.id]
            return fetch.task.result()
        if not fetch.late:
            log.info(
                "approval %s goes without its %s: Commerce took over %gs",
                approval.id,
                self.what,
                self._budget,
            )
        fetch.late = True
        return None

    def arrived(self) -> dict[str, T]:
        """Details that came after their approval's card went out without them, by approval id; each
        is handed out once. Fetches nobody asked for again for a long time are forgotten."""
        now = asyncio.get_running_loop().time()
        found: dict[str, T] = {}
        for approval_id, fetch in list(self._fetches.items()):
            if not fetch.task.done():
                continue
            if fetch.late or now - fetch.started > FORGET_AFTER_SECONDS:
                del self._fetches[approval_id]
                details = fetch.task.result()
                if fetch.late and details is not None:
                    found[approval_id] = details
        return found

    def _fetch(self, approval: Approval | None) -> _Fetch[T] | None:
        """The fetch of ``approval``'s details, started if none is under way; ``None`` when there is
        nothing to fetch."""
        if approval is None or not self._wants(approval):
            return None
        fetch = self._fetches.get(approval.id)
        if fetch is None:
            task = asyncio.create_task(self._read(approval), name=f"{self.what} of {approval.id}")
            fetch = self._fetches[approval.id] = _Fetch(task, asyncio.get_running_loop().time())
        return fetch

    async def _read(self, approval: Approval) -> T | None:
        try:
            async with self._slots, asyncio.timeout(self._timeout):
                return await self._load(approval)
        except OrderNotFound:
            log.warning("order %s of approval %s was not found in Commerce", approval.entity_id, approval.id)
        except CommerceError as error:
            log.warning("no %s for approval %s: %s", self.what, approval.id, error.message)
        except TimeoutError:
            log.warning(
                "no %s for approval %s: Commerce took over %gs", self.what, approval.id, self._timeout
            )
        except ValueError as error:  # an entity id that is not an id Commerce knows
            log.debug("no %s for approval %s: %s", self.what, approval.id, error)
        except Exception as error:  # best effort: never fails a card
            log.warning("no %s for approval %s: %s", self.what, approval.id, type(error).__name__)
        return None


class OrderDetails(BestEffortReads[OrderSummary]):
    """The order summary (total, items, status, organization) an order approval's card shows."""

    what = "order's details"

    def _wants(self, approval: Approval) -> bool:
        return approval.guessed_kind is ApprovalKind.ORDER

    async def _load(self, approval: Approval) -> OrderSummary:
        return await self._commerce.get_order_summary(approval.entity_id)


class Registrants(BestEffortReads[Registrant]):
    """Who registered, for a buyer approval's card: the buyer (the approval's entity) as Commerce's
    person resource gives them, read with the service account."""

    what = "registrant"

    def _wants(self, approval: Approval) -> bool:
        return approval.guessed_kind is ApprovalKind.BUYER

    async def _load(self, approval: Approval) -> Registrant:
        return await self._commerce.get_person(approval.entity_id)


def encoded(order: OrderSummary) -> str:
    """``order`` as the card row keeps it (``CardRecord.order_details``): JSON, the total as a string."""
    fields = asdict(order)
    if order.grand_total is not None:
        fields["grand_total"] = str(order.grand_total)
    return json.dumps(fields, separators=(",", ":"))


def shown_on_card(card: CardRecord | None, approval: Approval) -> OrderSummary | None:
    """The order's details ``card`` shows, when they are of ``approval``'s order; ``None`` when it
    shows none, or what it holds cannot be read (the caller then asks Commerce)."""
    if card is None or not card.order_details:
        return None
    try:
        fields = json.loads(card.order_details)
        total = fields.get("grand_total")
        order = OrderSummary(**{**fields, "grand_total": None if total is None else Decimal(total)})
    except (ValueError, TypeError, AttributeError, InvalidOperation):
        log.warning("approval %s: its card's order details cannot be read", card.approval_id)
        return None
    return order if order.order_id == approval.entity_id else None
