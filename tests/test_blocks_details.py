"""The Details modal stays within Block Kit's limits whatever Commerce sends."""

from __future__ import annotations

from decimal import Decimal

from bot.commerce.models import Approval, ApprovalState
from bot.commerce.orders import OrderAdjustment, OrderDetail, OrderLine, ShipTo
from bot.sandbox.block_kit import block_limit_errors
from bot.slack.outbound.blocks.details import LINES_PER_PAGE, DetailsPage, details_view
from bot.storage.records import OrganizationHistory
from tests.test_blocks import check_blocks

LONG = "x" * 5000


def test_a_page_of_huge_lines_and_texts_stays_within_the_limits() -> None:
    approval = Approval("10003", ApprovalState.PENDING, "7001", "4040", submitter_name=LONG)
    line = OrderLine(LONG, Decimal("12345678.5"), LONG, Decimal("1e20"), Decimal("1e21"), LONG)
    order = OrderDetail(
        "7001",
        buyer=LONG,
        organization=LONG,
        po_number=LONG,
        description=LONG,
        comments=LONG,
        requested_ship_date=LONG,
        ship_to=ShipTo(LONG, (LONG,) * 30),
        lines=(line,) * LINES_PER_PAGE,
        line_count=10_000,
        adjustments=(OrderAdjustment(LONG, Decimal("-1"), "EUR"),) * 500,
        grand_total=Decimal("1e22"),
        currency=LONG,
    )
    history = OrganizationHistory(90, 12, 1, None, LONG)
    view = details_view(approval, page=DetailsPage("10003", 7), order=order, history=history, can_act=True)
    check_blocks(view["blocks"], max_blocks=100)
    assert block_limit_errors(view["blocks"]) == []
    assert "10000 lines" in str(view["blocks"])
