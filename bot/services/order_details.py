"""Best-effort order details for approval cards: they never hold up or fail a card or a decision."""

from __future__ import annotations

import asyncio
import logging

from bot.commerce.client import CommerceClient
from bot.commerce.errors import CommerceError, OrderNotFound
from bot.commerce.models import Approval, ApprovalKind, OrderSummary

log = logging.getLogger(__name__)

ORDER_DETAILS_TIMEOUT_SECONDS = 10.0
"""Longest wait for an order's details (retries included) before a card goes out without them."""


class OrderDetails:
    def __init__(self, commerce: CommerceClient, *, timeout: float = ORDER_DETAILS_TIMEOUT_SECONDS) -> None:
        self._commerce = commerce
        self._timeout = timeout

    async def for_approval(self, approval: Approval | None) -> OrderSummary | None:
        """The summary of the order an order approval is about; ``None`` for buyers, for no approval
        (Commerce no longer has it) or on any failure."""
        if approval is None or approval.guessed_kind is not ApprovalKind.ORDER:
            return None
        try:
            async with asyncio.timeout(self._timeout):
                return await self._commerce.get_order_summary(approval.entity_id)
        except OrderNotFound:
            log.warning("order %s of approval %s was not found in Commerce", approval.entity_id, approval.id)
        except CommerceError as error:
            log.warning("no order details for approval %s: %s", approval.id, error.message)
        except TimeoutError:
            log.warning(
                "no order details for approval %s: Commerce took over %gs", approval.id, self._timeout
            )
        except ValueError as error:  # an entity id that is not an order id
            log.debug("no order details for approval %s: %s", approval.id, error)
        return None
