"""What the Details modal shows about one approval, read from Commerce (and the bot's own records).

Invariant: only the approval itself is needed; the order (or the person who registered) is best
effort: a failure to read it is said in words (``order_failure``), never raised, so the modal and
its buttons still work. Each read is bounded by ``timeout_seconds``.

History at a glance: the bot's decisions (approve and reject accepted by Commerce, in the last
``HISTORY_DAYS``) whose audit rows name the approval's buyer organization, counted from the audit log
alone (no Commerce call for it). A decision's row names the organization its card showed: an order
approval's, the order's buyer organization (from the order details the card kept); a buyer
registration's, the registrant's organization (from the registrant the card kept). So orders and
registrations of one organization count together, and a decision on a card that showed neither
counts nowhere. The organization asked about is the order's (or, when it cannot be read now, the
one its card shows), or the registrant's (or, when the person cannot be read now, the one its card
shows).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.commerce.client import CommerceClient
from bot.commerce.errors import ApprovalNotFound, CommerceError, OrderNotFound
from bot.commerce.models import Approval, ApprovalKind
from bot.commerce.orders import OrderDetail
from bot.commerce.persons import Registrant
from bot.storage.records import OrganizationHistory
from bot.storage.store import Store

log = logging.getLogger(__name__)

DETAILS_READ_SECONDS = 10.0
"""Longest one read for the Details modal takes; the modal is already open meanwhile."""


HISTORY_DAYS = 90
"""How far back the modal counts the bot's decisions on the buyer organization."""


@dataclass(frozen=True)
class ApprovalFacts:
    approval: Approval
    order: OrderDetail | None = None
    order_failure: str | None = None
    history: OrganizationHistory | None = None
    """The bot's own decisions on the approval's buyer organization (from the audit log)."""
    registrant: Registrant | None = None
    registrant_failure: str | None = None


class DetailsUnavailable(Exception):
    """The approval itself could not be read; ``message`` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApprovalDetails:
    def __init__(
        self, commerce: CommerceClient, store: Store, *, timeout_seconds: float = DETAILS_READ_SECONDS
    ) -> None:
        self._commerce = commerce
        self._store = store
        self._timeout = timeout_seconds

    async def read(self, approval_id: str, *, page: int, page_size: int) -> ApprovalFacts:
        """The approval and, for an order, page ``page`` of its lines; :class:`DetailsUnavailable`
        when the approval cannot be read."""
        try:
            async with asyncio.timeout(self._timeout):
                approval = await self._commerce.get_approval(approval_id)
        except ApprovalNotFound:
            raise DetailsUnavailable(f"Approval {approval_id} no longer exists in Commerce.") from None
        except CommerceError as error:
            raise DetailsUnavailable(
                f"Commerce could not read approval {approval_id}: {error.message}"
            ) from None
        except TimeoutError:
            raise DetailsUnavailable(
                f"Commerce did not answer within {self._timeout:g} s for approval {approval_id}."
            ) from None
        if approval.guessed_kind is not ApprovalKind.ORDER:
            registrant, failure = await self._registrant(approval)
            organization = (
                registrant.organization_id
                if registrant is not None
                else await self._organization_shown(approval)
            )
            history = await self._history(organization)
            return ApprovalFacts(approval, history=history, registrant=registrant, registrant_failure=failure)
        order, failure = await self._order(approval, page, page_size)
        organization = (
            order.organization_id if order is not None else await self._organization_shown(approval)
        )
        return ApprovalFacts(approval, order, failure, await self._history(organization))

    async def _registrant(self, approval: Approval) -> tuple[Registrant | None, str | None]:
        user_id = approval.entity_id
        try:
            async with asyncio.timeout(self._timeout):
                return await self._commerce.get_person(user_id), None
        except CommerceError as error:
            log.warning("no registrant for approval %s: %s", approval.id, error.message)
            return None, f"Commerce could not say who registered (user {user_id}): {error.message}"
        except TimeoutError:
            return None, f"Commerce did not say who registered within {self._timeout:g} s."
        except ValueError:
            return None, f"{user_id!r} is not a user id Commerce can be asked about."

    async def _organization_shown(self, approval: Approval) -> str | None:
        """The buyer organization the approval's card shows (when the order or the person could not be
        read now)."""
        card = await self._store.get_card(approval.id)
        return card.organization_id if card is not None else None

    async def _history(self, organization_id: str | None) -> OrganizationHistory | None:
        if not organization_id:
            return None
        try:
            return await self._store.organization_history(organization_id, HISTORY_DAYS)
        except Exception as error:  # the history is a help, never a reason to fail the modal
            log.warning("no decision history for organization %s: %s", organization_id, type(error).__name__)
            return None

    async def _order(
        self, approval: Approval, page: int, page_size: int
    ) -> tuple[OrderDetail | None, str | None]:
        order_id = approval.entity_id
        try:
            async with asyncio.timeout(self._timeout):
                order = await self._commerce.get_order_detail(order_id, page_number=page, page_size=page_size)
        except OrderNotFound:
            return None, f"Order {order_id} was not found in Commerce."
        except CommerceError as error:
            log.warning("no details of order %s: %s", order_id, error.message)
            return None, f"Commerce could not give the details of order {order_id}: {error.message}"
        except TimeoutError:
            return None, f"Commerce did not give the details of order {order_id} within {self._timeout:g} s."
        except ValueError:  # an entity id that is not an order id
            return None, f"{order_id!r} is not an order id Commerce can be asked about."
        return order, None
