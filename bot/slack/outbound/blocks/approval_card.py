"""Approval cards (channel messages with Approve/Reject), their closed forms, and ``/approvals`` answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from bot.commerce.models import (
    Approval,
    ApprovalKind,
    ApprovalPage,
    ApprovalQuery,
    ApprovalState,
    Decision,
    OrderSummary,
)
from bot.commerce.persons import Registrant
from bot.slack.outbound.blocks.command_text import list_command_text
from bot.slack.outbound.blocks.ids import (
    APPROVAL_ACTIONS_BLOCK_PREFIX,
    APPROVE_ACTION_ID,
    DETAILS_ACTION_ID,
    REJECT_ACTION_ID,
)
from bot.slack.outbound.blocks.text import (
    BUTTON_TEXT_LIMIT,
    BUTTON_VALUE_LIMIT,
    CONFIRM_BUTTON_LIMIT,
    CONFIRM_TEXT_LIMIT,
    CONFIRM_TITLE_LIMIT,
    EN_DASH,
    MAX_MESSAGE_BLOCKS,
    code,
    context,
    escape,
    fallback,
    fields_section,
    header,
    maybe_date,
    pack_lines,
    plain,
    quote,
    section,
    user_mention,
)
from bot.slack.outbound.blocks.types import Block, Message

_PLAIN_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")

KIND_NOUN = {ApprovalKind.ORDER: "Order", ApprovalKind.BUYER: "Buyer registration"}
ENTITY_LABEL = {ApprovalKind.ORDER: "Order id", ApprovalKind.BUYER: "Buyer id"}
STATE_LABEL = {
    ApprovalState.PENDING: "⏳ Pending",
    ApprovalState.APPROVED: "✅ Approved",
    ApprovalState.REJECTED: "❌ Rejected",
}

ORDER_STATUS_LABEL = {
    "A": "Payment authorization requires review",
    "B": "Backordered",
    "C": "Payment authorized",
    "D": "Deposited",
    "E": "Being edited by customer service",
    "I": "Submitted",
    "M": "Payment pending",
    "N": "Approval denied",
    "P": "Pending",
    "R": "Released",
    "S": "Shipped",
    "W": "Awaiting approval",
    "X": "Cancelled",
}
"""Commerce ``orderStatus`` codes; others are shown as the bare code."""

CURRENCY_DECIMALS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3, "TND": 3}
"""ISO 4217 minor units where they are not 2."""


def format_money(amount: Decimal, currency: str | None) -> str:
    """``EUR 1,234.50``: escaped currency code, thousands separators, the currency's decimals."""
    places = CURRENCY_DECIMALS.get((currency or "").strip().upper(), 2)
    try:
        rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the decimal context holds: show it as sent
        number = str(amount)
    else:
        number = f"{rounded:,.{places}f}"
    return f"{escape(currency.strip())} {number}" if currency and currency.strip() else number


def _order_pairs(approval: Approval, order: OrderSummary | None) -> list[tuple[str, str]]:
    """Total, item count and order status, for what is known; nothing for another entity's summary."""
    if order is None or order.order_id != approval.entity_id:
        return []
    pairs: list[tuple[str, str]] = []
    if order.grand_total is not None:
        pairs.append(("Total", format_money(order.grand_total, order.currency)))
    if order.item_count is not None:
        pairs.append(("Items", str(order.item_count)))
    if order.status:
        label = ORDER_STATUS_LABEL.get(order.status.upper())
        pairs.append(("Order status", f"{label} ({escape(order.status)})" if label else code(order.status)))
    return pairs


def _submitter(approval: Approval) -> str:
    if approval.submitter_name and approval.submitter_name.strip():
        return escape(approval.submitter_name.strip())
    return f"member {code(approval.submitter_id)}"


def _title(approval: Approval, suffix: str) -> str:
    noun = "Order" if approval.guessed_kind is ApprovalKind.ORDER else "Buyer"
    return f"{noun} approval {suffix}"


def _facts(approval: Approval, *, with_state: bool = False, order: OrderSummary | None = None) -> Block:
    """At most 9 fields (Slack allows 10): 5 facts, up to 3 order details, and the state."""
    kind = approval.guessed_kind
    pairs = [
        ("Submitted by", _submitter(approval)),
        ("What", KIND_NOUN[kind]),
        (ENTITY_LABEL[kind], code(approval.entity_id)),
        *_order_pairs(approval, order),
        ("Submitted", maybe_date(approval.submit_time)),
        ("Approval id", code(approval.id)),
    ]
    if with_state:
        pairs.append(("State", STATE_LABEL[approval.state]))
    return fields_section(pairs)


def _summary(approval: Approval) -> str:
    """Short escaped description for notification text, e.g. ``Order 5001 from Jane Smith``."""
    kind = approval.guessed_kind
    who = (
        escape(approval.submitter_name.strip())
        if approval.submitter_name
        else f"member {approval.submitter_id}"
    )
    return f"{KIND_NOUN[kind]} {escape(approval.entity_id)} from {who}"


def _confirm_text(approval: Approval) -> str:
    """Plain text (not parsed by Slack); only a well-formed entity id is named."""
    kind = approval.guessed_kind
    noun = "order" if kind is ApprovalKind.ORDER else "buyer registration"
    entity = approval.entity_id if _PLAIN_SAFE_ID.match(approval.entity_id) else None
    what = f"{noun} {entity}" if entity else f"this {noun}"
    return f"Approve {what} (approval {approval.id})? Commerce is updated right away."


def details_button(approval_id: str) -> Block:
    """Opens the approval's Details modal."""
    return {
        "type": "button",
        "action_id": DETAILS_ACTION_ID,
        "text": plain("Details", BUTTON_TEXT_LIMIT),
        "value": approval_id[:BUTTON_VALUE_LIMIT],
    }


def actions_block(approval: Approval, *, details: bool = True) -> Block:
    """Approve (with a confirm dialog), Reject (opens a modal) and, unless ``details`` is False (in
    the Details modal itself), Details for one approval."""
    elements: list[Block] = [
        {
            "type": "button",
            "action_id": APPROVE_ACTION_ID,
            "text": plain("Approve", BUTTON_TEXT_LIMIT),
            "style": "primary",
            "value": approval.id[:BUTTON_VALUE_LIMIT],
            "confirm": {
                "title": plain("Approve this request?", CONFIRM_TITLE_LIMIT),
                "text": plain(_confirm_text(approval), CONFIRM_TEXT_LIMIT),
                "confirm": plain("Approve", CONFIRM_BUTTON_LIMIT),
                "deny": plain("Cancel", CONFIRM_BUTTON_LIMIT),
            },
        },
        {
            "type": "button",
            "action_id": REJECT_ACTION_ID,
            "text": plain("Reject", BUTTON_TEXT_LIMIT),
            "style": "danger",
            "value": approval.id[:BUTTON_VALUE_LIMIT],
        },
    ]
    if details:
        elements.append(details_button(approval.id))
    return {
        "type": "actions",
        "block_id": f"{APPROVAL_ACTIONS_BLOCK_PREFIX}{approval.id}",
        "elements": elements,
    }


def votes_line(voters: Sequence[str], needed: int) -> str:
    """``1 of 2 approvals: <@U1>``, or what it takes before anyone approved."""
    if not voters:
        return f"Needs {needed} approvals from different approvers."
    return f"{len(voters)} of {needed} approvals: {', '.join(user_mention(v) for v in voters)}"


def dropped_votes_line(dropped: Sequence[str]) -> str:
    """Says whose earlier votes no longer count."""
    who = ", ".join(user_mention(v) for v in dropped)
    return f"No longer counted: the approval of {who}, who is no longer an approver of this request."


def registrant_text(registrant: Registrant) -> str:
    """``*Registered by* Name · e-mail · organization`` and the address on a second line."""
    who = [escape(part) for part in (registrant.name, registrant.email, registrant.organization) if part]
    text = "*Registered by* " + (" · ".join(who) or f"user {code(registrant.user_id)}")
    if registrant.address:
        text += "\n" + escape(", ".join(registrant.address))
    return text


def approval_card(
    approval: Approval,
    order: OrderSummary | None = None,
    *,
    voters: Sequence[str] = (),
    needed: int = 1,
    registrant: Registrant | None = None,
    dropped: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> Message:
    """The card posted for a new pending approval; ``order`` adds the order's total, items and status,
    ``registrant`` who registered (a buyer approval); ``notes`` are said below (why the route is what
    it is). Under the two-person rule (``needed`` > 1) it says who approved so far, above the buttons,
    and whose votes were ``dropped``."""
    blocks = [header(_title(approval, "requested")), _facts(approval, order=order)]
    blocks.extend(_registrant_blocks(approval, registrant))
    blocks.extend(context(note) for note in notes)
    if needed > 1:
        blocks.append(context(votes_line(voters, needed)))
    if dropped:
        blocks.append(context(dropped_votes_line(dropped)))
    blocks.append(actions_block(approval))
    text = f"Approval requested: {_summary(approval)}"
    total = next((value for label, value in _order_pairs(approval, order) if label == "Total"), None)
    if total is not None:
        text += f" ({total})"
    return fallback(text), blocks


def _registrant_blocks(approval: Approval, registrant: Registrant | None) -> list[Block]:
    """Who registered, on a buyer approval's card (every form of it: posted, voted, decided, closed)."""
    if registrant is None or approval.guessed_kind is not ApprovalKind.BUYER:
        return []
    return [section(registrant_text(registrant))]


def decided_card(
    approval: Approval,
    *,
    decision: Decision,
    decided_by: str,
    decided_at: datetime,
    comment: str | None,
    order: OrderSummary | None = None,
    registrant: Registrant | None = None,
) -> Message:
    """The card after a decision taken in Slack: no buttons, who decided, when, and why (and who
    registered, for a buyer approval whose ``registrant`` the card showed)."""
    mark = "✅" if decision is Decision.APPROVE else "❌"
    verb = decision.verb.capitalize()
    blocks: list[Block] = [
        header(_title(approval, verb.lower())),
        section(f"{mark} *{verb}* by {user_mention(decided_by)} at {maybe_date(decided_at)}"),
        _facts(approval, order=order),
        *_registrant_blocks(approval, registrant),
    ]
    if comment and comment.strip():
        blocks.append(section(quote(comment.strip())))
    text = f"{mark} {verb}: {_summary(approval)} (by {user_mention(decided_by)})"
    return fallback(text), blocks


def decided_elsewhere_card(
    approval: Approval, order: OrderSummary | None = None, registrant: Registrant | None = None
) -> Message:
    """The card once Commerce shows the approval decided outside Slack: no buttons (who registered
    stays, for a buyer approval whose ``registrant`` the card showed)."""
    if approval.state is ApprovalState.APPROVED:
        line = "✅ *Approved in Commerce*"
    elif approval.state is ApprovalState.REJECTED:
        line = "❌ *Rejected in Commerce*"
    else:
        line = "\u2139\ufe0f *No longer pending in Commerce*"
    if approval.approver_id:
        line += f" by member {code(approval.approver_id)}"
    if approval.approve_time is not None:
        line += f" at {maybe_date(approval.approve_time)}"
    line += "; nothing can be decided here any more."
    blocks: list[Block] = [
        header(_title(approval, "decided in Commerce")),
        section(line),
        _facts(approval, order=order),
        *_registrant_blocks(approval, registrant),
    ]
    if approval.comment and approval.comment.strip():
        blocks.append(section(quote(approval.comment.strip())))
    verb = {
        ApprovalState.APPROVED: "approved",
        ApprovalState.REJECTED: "rejected",
    }.get(approval.state, "no longer pending")
    return fallback(f"{_summary(approval)}: {verb} in Commerce"), blocks


def not_found_card(approval_id: str) -> Message:
    """The card for an approval Commerce no longer has."""
    text = f"🗑️ Approval {code(approval_id)} no longer exists in Commerce; there is nothing left to decide."
    blocks = [header("Approval request removed"), section(text)]
    return fallback(f"Approval {escape(approval_id)} no longer exists in Commerce"), blocks


def closed_card(
    approval_id: str,
    approval: Approval | None,
    order: OrderSummary | None = None,
    registrant: Registrant | None = None,
) -> Message:
    """The card of an approval no longer pending in Commerce (``approval=None``: no longer there at all)."""
    if approval is None:
        return not_found_card(approval_id)
    return decided_elsewhere_card(approval, order, registrant)


def approval_detail(approval: Approval, *, can_act: bool, order: OrderSummary | None = None) -> Message:
    """``/approvals show <id>``: every fact and the state; buttons only for an approver on a pending one."""
    blocks: list[Block] = [
        header(_title(approval, approval.id)),
        _facts(approval, with_state=True, order=order),
    ]
    if not approval.is_pending:
        decided = STATE_LABEL[approval.state]
        if approval.approver_id:
            decided += f" by member {code(approval.approver_id)}"
        if approval.approve_time is not None:
            decided += f" at {maybe_date(approval.approve_time)}"
        blocks.append(section(decided))
        if approval.comment and approval.comment.strip():
            blocks.append(section(quote(approval.comment.strip())))
    elif can_act:
        blocks.append(actions_block(approval))
    else:
        blocks.append(context("Only approvers can approve or reject this request."))
    state = STATE_LABEL[approval.state].split(" ", 1)[1].lower()
    return fallback(f"Approval {escape(approval.id)}: {_summary(approval)} ({state})"), blocks


# -- /approvals list -------------------------------------------------------------------------------

_LIST_OVERHEAD_BLOCKS = 4  # header section, context, hint, spare


def _list_line(approval: Approval) -> str:
    kind = approval.guessed_kind
    return (
        f"*{escape(approval.id)}* · {KIND_NOUN[kind]} {code(approval.entity_id)} · "
        f"{_submitter(approval)} · {maybe_date(approval.submit_time)} · {STATE_LABEL[approval.state]}"
    )


def _describe_query(query: ApprovalQuery) -> str:
    parts = [
        {None: "all requests", ApprovalKind.ORDER: "orders", ApprovalKind.BUYER: "buyers"}[query.kind],
        {
            None: "any state",
            ApprovalState.PENDING: "pending",
            ApprovalState.APPROVED: "approved",
            ApprovalState.REJECTED: "rejected",
        }[query.state],
    ]
    if query.submitter_first_name:
        parts.append(f"first name {escape(query.submitter_first_name)}")
    if query.submitter_last_name:
        parts.append(f"last name {escape(query.submitter_last_name)}")
    if query.start_submit_time:
        parts.append(f"from {query.start_submit_time.isoformat()}")
    if query.end_submit_time:
        parts.append(f"to {query.end_submit_time.isoformat()}")
    if query.entity_id:
        parts.append(f"entity {escape(query.entity_id)}")
    return " · ".join(parts)


def approvals_list(page: ApprovalPage, query: ApprovalQuery) -> Message:
    """A compact list: one line per approval, ``Showing X-Y of TOTAL`` and the next page's command."""
    described = _describe_query(query)
    if not page.items:
        text = f"No approvals match ({described})."
        if query.page_number > 1:
            text = f"No approvals on page {query.page_number} ({described})."
        return fallback(text), [
            section(text),
            context("Try `/approvals list all status=pending` or `/approvals help`."),
        ]

    offset = page.start if page.start > 0 else (query.page_number - 1) * query.page_size
    first = offset + 1
    last = offset + len(page.items)
    total = max(page.total, last)
    lines = [_list_line(a) for a in page.items]
    blocks: list[Block] = [section(f"*Approvals* ({described})")]
    blocks.extend(pack_lines(lines, max_blocks=MAX_MESSAGE_BLOCKS - _LIST_OVERHEAD_BLOCKS))
    footer = [f"Showing {first}{EN_DASH}{last} of {total}"]
    more = last < total or (not page.complete and len(page.items) >= query.page_size)
    if more:
        next_query = ApprovalQuery(
            kind=query.kind,
            state=query.state,
            submitter_first_name=query.submitter_first_name,
            submitter_last_name=query.submitter_last_name,
            start_submit_time=query.start_submit_time,
            end_submit_time=query.end_submit_time,
            entity_id=query.entity_id,
            page_number=query.page_number + 1,
            page_size=query.page_size,
            order_by=query.order_by,
            extra=dict(query.extra),
        )
        footer.append(f"Next page: `{escape(list_command_text(next_query))}`")
    footer.append(f"Details: `{escape('/approvals show <id>')}`")
    blocks.append(context(*footer))
    return fallback(f"{len(page.items)} approval(s): showing {first}{EN_DASH}{last} of {total}"), blocks
