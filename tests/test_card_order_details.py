"""What an order card shows about its order, as its card row keeps it: read back exactly, or not at all."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.commerce.models import Approval, ApprovalState, OrderSummary
from bot.services.order_details import encoded, shown_on_card
from bot.storage.records import CardRecord, CardState

APPROVAL = Approval(id="A1", state=ApprovalState.PENDING, entity_id="7001", submitter_id="U9")


def card(order_details: str | None) -> CardRecord:
    return CardRecord("A1", "order", CardState.PENDING, order_details=order_details)


def test_the_details_a_card_shows_read_back_as_they_were() -> None:
    order = OrderSummary("7001", Decimal("1234.50"), "EUR", 3, "W", "org-1")
    assert shown_on_card(card(encoded(order)), APPROVAL) == order
    bare = OrderSummary("7001")
    assert shown_on_card(card(encoded(bare)), APPROVAL) == bare


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        '{"order_id": "7001", "grand_total": "a lot"}',
        '{"order_id": "7001", "colour": "red"}',
        encoded(OrderSummary("7002", Decimal("1.00"))),  # another order's
    ],
)
def test_details_that_cannot_be_read_or_are_of_another_order_are_not_shown(stored: str | None) -> None:
    assert shown_on_card(card(stored), APPROVAL) is None
    assert shown_on_card(None, APPROVAL) is None
