"""The Details modal of an approval: what is bought, for whom, shipped where, and the history.

Invariant: every view stays within Block Kit's limits whatever Commerce sends: a long order's lines
are paged (``LINES_PER_PAGE`` a page, packed into sections of at most 3000 characters), long texts
are cut, and the modal says how many lines there are in all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.commerce.models import Approval, ApprovalKind, is_approval_id
from bot.commerce.orders import OrderAdjustment, OrderDetail, OrderLine
from bot.commerce.persons import Registrant
from bot.slack.outbound.blocks.approval_card import (
    ENTITY_LABEL,
    KIND_NOUN,
    STATE_LABEL,
    actions_block,
    format_money,
    registrant_text,
)
from bot.slack.outbound.blocks.ids import (
    APPROVAL_ACTIONS_BLOCK_PREFIX,
    DETAILS_MODAL_CALLBACK_ID,
    DETAILS_PAGE_ACTION_ID,
    DETAILS_PAGER_BLOCK_ID,
)
from bot.slack.outbound.blocks.text import (
    BUTTON_TEXT_LIMIT,
    EN_DASH,
    MODAL_TITLE_LIMIT,
    code,
    context,
    divider,
    escape,
    fields_section,
    header,
    maybe_date,
    pack_lines,
    plain,
    quote,
    section,
    truncate,
)
from bot.slack.outbound.blocks.types import Block
from bot.storage.records import OrganizationHistory

LINES_PER_PAGE = 25
"""Order lines a page of the modal shows (one short text line each)."""
ADJUSTMENTS_SHOWN = 20
LINE_BLOCKS_LIMIT = 5
"""Sections the lines of one page may take (25 lines of at most 600 characters each fit in 5)."""
ORDER_LINE_LIMIT = 600
TITLE = "Approval details"
REASON_SHOWN_LIMIT = 300
UNKNOWN = "not given"
TIMES = "\u00d7"
NOTICE_BLOCK_ID = "details_notice"


@dataclass(frozen=True)
class DetailsPage:
    """What the modal was opened for: the approval and the page of its lines shown."""

    approval_id: str
    page: int = 1


def details_metadata(page: DetailsPage) -> str:
    return json.dumps({"approval_id": page.approval_id, "page": page.page}, separators=(",", ":"))


def parse_pager_value(value: str) -> DetailsPage | None:
    """The page a pager button asks for (``approval_id:page``); ``None`` for anything else."""
    approval_id, _, page = value.partition(":")
    if not is_approval_id(approval_id) or not page.isdigit() or not 1 <= int(page) <= 100_000:
        return None
    return DetailsPage(approval_id, int(page))


def _modal(blocks: list[Block], page: DetailsPage) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": DETAILS_MODAL_CALLBACK_ID,
        "title": plain(TITLE, MODAL_TITLE_LIMIT),
        "close": plain("Close", MODAL_TITLE_LIMIT),
        "private_metadata": details_metadata(page),
        "blocks": blocks,
    }


def details_loading(approval_id: str) -> dict[str, Any]:
    """Opened at once (the trigger lives 3 s); the details follow with ``views.update``."""
    return _modal([section(f"Reading approval {code(approval_id)} from Commerce…")], DetailsPage(approval_id))


def details_unavailable(approval_id: str, reason: str) -> dict[str, Any]:
    """When the approval itself cannot be read: nothing to decide on here."""
    return _modal(
        [header(f"Approval {approval_id}"), section(f"⚠️ {escape(reason)}")], DetailsPage(approval_id)
    )


def _money(amount: Decimal | None, currency: str | None) -> str:
    return format_money(amount, currency) if amount is not None else UNKNOWN


def order_line_text(line: OrderLine, currency: str | None) -> str:
    """``PART-001 · 2 C62 x EUR 4.10 = EUR 8.20``: one text line, at most ``ORDER_LINE_LIMIT`` long."""
    shown_currency = line.currency or currency
    quantity = f"{line.quantity.normalize():f}" if line.quantity is not None else "?"
    unit = f" {escape(line.unit)}" if line.unit else ""
    text = (
        f"{code(line.part_number or 'no part number')} · {quantity}{unit} {TIMES} "
        f"{_money(line.unit_price, shown_currency)} = *{_money(line.line_total, shown_currency)}*"
    )
    return truncate(text, ORDER_LINE_LIMIT)


def _adjustment_text(adjustment: OrderAdjustment, currency: str | None) -> str:
    what = escape(adjustment.description or "Adjustment")
    return truncate(f"{what}: {_money(adjustment.amount, adjustment.currency or currency)}", 300)


def _order_facts(approval: Approval, order: OrderDetail) -> list[Block]:
    pairs = [
        ("Buyer organization", escape(order.organization or order.organization_id or UNKNOWN)),
        ("Buyer", escape(order.buyer or order.buyer_id or UNKNOWN)),
        ("PO number", escape(order.po_number) if order.po_number else UNKNOWN),
        ("Requested ship date", escape(order.requested_ship_date or UNKNOWN)),
        ("Submitted", maybe_date(approval.submit_time)),
        ("State", STATE_LABEL[approval.state]),
    ]
    blocks = [fields_section(pairs)]
    if order.description:
        blocks.append(section(f"*Description*\n{quote(order.description)}"))
    if order.comments:
        blocks.append(section(f"*Comments*\n{quote(order.comments)}"))
    if order.ship_to is not None:
        address = [escape(order.ship_to.name)] if order.ship_to.name else []
        address += [escape(line) for line in order.ship_to.lines]
        blocks.append(section("*Ship to*\n" + "\n".join(address)))
    return blocks


def _lines(order: OrderDetail, page: DetailsPage) -> list[Block]:
    count = order.line_count
    if not order.lines:
        return [section(f"*Lines*: {count}" if count else "*Lines*: none")]
    first = (page.page - 1) * LINES_PER_PAGE + 1
    last = first + len(order.lines) - 1
    blocks = [section(f"*{count} lines* · showing {first}{EN_DASH}{last}")]
    texts = [order_line_text(line, order.currency) for line in order.lines[:LINES_PER_PAGE]]
    blocks += pack_lines(texts, max_blocks=LINE_BLOCKS_LIMIT)
    pager = _pager(page, last < count)
    if pager is not None:
        blocks.append(pager)
    return blocks


def _pager(page: DetailsPage, more: bool) -> Block | None:
    buttons = []
    if page.page > 1:
        buttons.append(_page_button("◀ Previous lines", page.approval_id, page.page - 1, "previous"))
    if more:
        buttons.append(_page_button("Next lines ▶", page.approval_id, page.page + 1, "next"))
    if not buttons:
        return None
    return {"type": "actions", "block_id": DETAILS_PAGER_BLOCK_ID, "elements": buttons}


def _page_button(text: str, approval_id: str, page: int, which: str) -> Block:
    return {
        "type": "button",
        "action_id": f"{DETAILS_PAGE_ACTION_ID}:{which}",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "value": f"{approval_id}:{page}",
    }


def _totals(order: OrderDetail) -> list[Block]:
    currency = order.currency
    pairs = [("Products", _money(order.product_total, currency))]
    if order.adjustments_total is not None and order.adjustments_total != 0:
        pairs.append(("Adjustments", _money(order.adjustments_total, currency)))
    pairs += [
        ("Shipping", _money(order.shipping, currency)),
        ("Tax", _money(order.tax, currency)),
        ("Grand total", f"*{_money(order.grand_total, currency)}*"),
    ]
    blocks = [fields_section(pairs)]
    if order.adjustments:
        texts = [_adjustment_text(a, currency) for a in order.adjustments[:ADJUSTMENTS_SHOWN]]
        more = len(order.adjustments) - ADJUSTMENTS_SHOWN
        if more > 0:
            texts.append(f"…and {more} more")
        blocks.append(section("*Adjustments*\n" + "\n".join(texts)))
    return blocks


def details_view(
    approval: Approval,
    *,
    page: DetailsPage,
    order: OrderDetail | None = None,
    order_failure: str | None = None,
    registrant: Registrant | None = None,
    registrant_failure: str | None = None,
    history: OrganizationHistory | None = None,
    can_act: bool,
) -> dict[str, Any]:
    """The modal: the approval's facts, the order (a page of its lines) or the person who registered,
    the bot's history with the buyer organization, and Approve/Reject for an approver on a pending one.
    ``order_failure``/``person_failure`` say why those could not be read (the buttons stay)."""
    kind = approval.guessed_kind
    submitter = (
        escape(approval.submitter_name)
        if approval.submitter_name
        else f"member {code(approval.submitter_id)}"
    )
    blocks: list[Block] = [
        header(f"{KIND_NOUN[kind]} approval {approval.id}"),
        fields_section(
            [
                ("Submitted by", submitter),
                (ENTITY_LABEL[kind], code(approval.entity_id)),
                ("Approval id", code(approval.id)),
            ]
        ),
    ]
    if kind is ApprovalKind.ORDER:
        if order is not None:
            blocks += [
                *_order_facts(approval, order),
                divider(),
                *_lines(order, page),
                divider(),
                *_totals(order),
            ]
        else:
            blocks.append(section(f"⚠️ {escape(order_failure or 'The order could not be read.')}"))
    elif registrant is not None:
        blocks.append(section(registrant_text(registrant)))
    elif registrant_failure:
        blocks.append(section(f"⚠️ {escape(registrant_failure)}"))
    if history is not None:
        blocks.append(context(history_text(history)))
    if approval.is_pending and can_act:
        blocks.append(actions_block(approval, details=False))
    elif approval.is_pending:
        blocks.append(context("Only this request's approvers can approve or reject it."))
    return _modal(blocks, page)


def history_text(history: OrganizationHistory) -> str:
    """``This buyer organization, last 90 days in Slack: 12 approved, 1 rejected. Last rejection …``"""
    lead = f"*This buyer organization, last {history.days} days in Slack:* "
    if not history.approved and not history.rejected:
        return lead + "nothing decided yet."
    text = lead + f"{history.approved} approved, {history.rejected} rejected."
    if history.last_rejection_at is not None:
        text += f" Last rejection {maybe_date(history.last_rejection_at)}"
        reason = (history.last_rejection_reason or "").strip()
        text += f": \u201c{escape(truncate(reason, REASON_SHOWN_LIMIT))}\u201d" if reason else "."
    return text


def with_outcome(view: dict[str, Any], message: str, *, closed: bool) -> dict[str, Any]:
    """``view`` (a Details modal as Slack sent it back) with ``message`` on top, and without its
    Approve/Reject buttons when ``closed`` (the question is settled)."""
    blocks = [
        b
        for b in view.get("blocks") or []
        if isinstance(b, dict)
        and b.get("block_id") != NOTICE_BLOCK_ID
        and not (closed and str(b.get("block_id", "")).startswith(APPROVAL_ACTIONS_BLOCK_PREFIX))
    ]
    notice = section(message, block_id=NOTICE_BLOCK_ID)
    kept: dict[str, Any] = {
        key: view[key] for key in ("type", "callback_id", "title", "close", "private_metadata") if key in view
    }
    return {**kept, "type": "modal", "blocks": [notice, *blocks][:100]}


def outcome_view(approval_id: str, message: str) -> dict[str, Any]:
    """The Details modal once a decision taken from it (through the reject dialog) is settled."""
    return _modal(
        [header(f"Approval {approval_id}"), section(message, block_id=NOTICE_BLOCK_ID)],
        DetailsPage(approval_id),
    )
