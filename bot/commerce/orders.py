"""An order as the Details modal shows it: ``GET /store/{storeId}/order/{orderId}`` with its lines paged.

The order-capture spec's ``order-orderDetail``: the order's own facts (buyer, organization, PO number,
description, comments, requested ship date, totals, adjustments) on every page, and one page of
``orderItem`` (``pageNumber``/``pageSize``) whose ``recordSetTotal`` counts every line. The ship-to
address sits on each line (Commerce ships per line); the first line's is shown for the order.
Invariant: parsing is tolerant like :mod:`bot.commerce.wire`: an odd or missing detail is ``None``,
never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.commerce.wire import as_int, decimal_amount, parse_time, text

DETAIL_PROFILE = "IBM_Details"


@dataclass(frozen=True)
class OrderLine:
    part_number: str | None
    quantity: Decimal | None
    unit: str | None
    unit_price: Decimal | None
    line_total: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class OrderAdjustment:
    description: str | None
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class ShipTo:
    name: str | None
    lines: tuple[str, ...]
    """Address lines, then ``postal code city``, ``state``, ``country``, as far as known."""


@dataclass(frozen=True)
class OrderDetail:
    order_id: str
    buyer_id: str | None = None
    buyer: str | None = None
    """``buyerDistinguishedName``, as Commerce gives it."""
    organization_id: str | None = None
    organization: str | None = None
    """``orgDistinguishedName``."""
    po_number: str | None = None
    description: str | None = None
    comments: str | None = None
    requested_ship_date: str | None = None
    ship_to: ShipTo | None = None
    lines: tuple[OrderLine, ...] = ()
    """This page's lines."""
    line_count: int = 0
    """Every line of the order, on all pages."""
    adjustments: tuple[OrderAdjustment, ...] = ()
    product_total: Decimal | None = None
    shipping: Decimal | None = None
    tax: Decimal | None = None
    adjustments_total: Decimal | None = None
    grand_total: Decimal | None = None
    currency: str | None = None


def detail_params(page_number: int, page_size: int) -> dict[str, str]:
    """The read of one page of lines (1-based)."""
    if page_number < 1 or page_size < 1:
        raise ValueError("page_number and page_size must be at least 1")
    return {"pageNumber": str(page_number), "pageSize": str(page_size), "profileName": DETAIL_PROFILE}


def parse_order_detail(body: Mapping[str, Any], order_id: str) -> OrderDetail:
    items = [i for i in body.get("orderItem") or [] if isinstance(i, Mapping)]
    total_lines = as_int(body.get("recordSetTotal"))
    sales_tax, shipping_tax = _amount(body, "totalSalesTax"), _amount(body, "totalShippingTax")
    no_tax = sales_tax is None and shipping_tax is None
    tax = None if no_tax else (sales_tax or Decimal(0)) + (shipping_tax or Decimal(0))
    adjustments = body.get("adjustment")
    return OrderDetail(
        order_id=order_id,
        buyer_id=_text(body.get("buyerId")),
        buyer=_text(body.get("buyerDistinguishedName")),
        organization_id=_text(body.get("orgUniqueID")),
        organization=_text(body.get("orgDistinguishedName")),
        po_number=_text(body.get("buyerPONumber")),
        description=_text(body.get("orderDescription")),
        comments=_text(body.get("comments")),
        requested_ship_date=_day(body.get("requestedShipDate")),
        ship_to=_ship_to(items[0]) if items else None,
        lines=tuple(_line(item) for item in items),
        line_count=max(total_lines or 0, len(items)),
        adjustments=tuple(
            _adjustment(a)
            for a in (adjustments if isinstance(adjustments, list) else [])
            if isinstance(a, Mapping)
        ),
        product_total=_amount(body, "totalProductPrice"),
        shipping=_amount(body, "totalShippingCharge"),
        tax=tax,
        adjustments_total=_amount(body, "totalAdjustment"),
        grand_total=_amount(body, "grandTotal"),
        currency=_text(body.get("grandTotalCurrency")) or _text(body.get("totalProductPriceCurrency")),
    )


def _text(value: Any) -> str | None:
    found = text(value)
    return (found.strip() or None) if found is not None else None


def _amount(body: Mapping[str, Any], name: str) -> Decimal | None:
    return decimal_amount(body.get(name))


def _day(value: Any) -> str | None:
    moment = parse_time(value)
    return moment.date().isoformat() if moment is not None else _text(value)


def _line(item: Mapping[str, Any]) -> OrderLine:
    return OrderLine(
        part_number=_text(item.get("partNumber")),
        quantity=decimal_amount(item.get("quantity")),
        unit=_text(item.get("UOM")) or _text(item.get("unitUom")),
        unit_price=decimal_amount(item.get("unitPrice")),
        line_total=decimal_amount(item.get("orderItemPrice")),
        currency=_text(item.get("currency")),
    )


def _adjustment(adjustment: Mapping[str, Any]) -> OrderAdjustment:
    return OrderAdjustment(
        description=_text(adjustment.get("description")) or _text(adjustment.get("code")),
        amount=decimal_amount(adjustment.get("amount")),
        currency=_text(adjustment.get("currency")),
    )


def _ship_to(item: Mapping[str, Any]) -> ShipTo | None:
    names = (_text(item.get(key)) for key in ("firstName", "middleName", "lastName"))
    name = " ".join(n for n in names if n) or None
    raw_lines = item.get("addressLine")
    lines = [_text(line) for line in raw_lines] if isinstance(raw_lines, list) else []
    postal = _text(item.get("zipCode")) or _text(item.get("postalCode"))
    city = " ".join(part for part in (postal, _text(item.get("city"))) if part)
    state = _text(item.get("stateOrProvinceName")) or _text(item.get("state"))
    shown = tuple(line for line in (*lines, city, state, _text(item.get("country"))) if line)
    organization = _text(item.get("organizationName"))
    if organization:
        shown = (organization, *shown)
    if name is None and not shown:
        return None
    return ShipTo(name, shown)
