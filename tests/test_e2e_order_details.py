"""End to end: order approval cards show the order's total and item count when Commerce can tell.

Order details are best effort: when the order read fails (5xx, 404, slowness) the card is posted
exactly as it would be without them, once.
"""

from __future__ import annotations

import threading
from typing import Any

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.notifier.announcements import CardAnnouncer
from bot.notifier.approvals import ApprovalsNotifier, ListingPolicy
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.services.order_details import OrderDetails
from bot.services.routing import Routes
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, DETAILS_ACTION_ID, REJECT_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import action_ids, all_text, blocks_of, card_updates, click, posted_cards
from tests.waiting import stays, wait_for


def card_fields(call: dict[str, Any]) -> dict[str, str]:
    """``label -> value`` of the card's fields (``*label*\\nvalue``)."""
    texts = [f["text"] for b in blocks_of(call) if b["type"] == "section" for f in b.get("fields", [])]
    return {label.strip("*"): value for label, _, value in (t.partition("\n") for t in texts)}


def order_reads(commerce: CommerceEmulator, order_id: str) -> list[RecordedRequest]:
    return commerce.requests_to("GET", f"/order/{order_id}")


def is_order_read(request: RecordedRequest) -> bool:
    return request.method == "GET" and "/order/" in request.path


def test_order_approval_card_shows_total_and_item_count(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id = commerce.add_approval(
        ApprovalKind.ORDER, order_total="1234.50", order_currency="EUR", order_items=3
    )
    order_id = commerce.approval(approval_id)["entityId"]

    assert bot.poll_approvals() == 1
    assert bot.poll_approvals() == 0  # posted once; the order is read once, for the new card

    (card,) = posted_cards(slack)
    fields = card_fields(card)
    assert fields["Total"] == "EUR 1,234.50"
    assert fields["Items"] == "3"
    assert fields["Order status"] == "Awaiting approval (W)"
    assert fields["Order id"] == f"`{order_id}`"
    assert "EUR 1,234.50" in card["text"]
    assert action_ids(blocks_of(card)) == [APPROVE_ACTION_ID, REJECT_ACTION_ID, DETAILS_ACTION_ID]
    (read,) = order_reads(commerce, order_id)
    assert read.headers["wctoken"] in commerce.issued_tokens
    assert commerce.issued_tokens[read.headers["wctoken"]] == read.headers["wctrustedtoken"]


def test_order_endpoint_answering_500_still_posts_the_card_once_without_total(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    boom = Response(
        status=500,
        body={"errors": [{"errorKey": "_ERR_GENERIC", "errorMessage": "boom", "errorCode": "CWXFR0230E"}]},
    )
    commerce.inject(lambda request: boom if is_order_read(request) else None)
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_total="99.00", order_currency="USD")
    order_id = commerce.approval(approval_id)["entityId"]

    assert bot.poll_approvals() == 1
    assert bot.poll_approvals() == 0

    (card,) = posted_cards(slack)
    fields = card_fields(card)
    assert list(fields) == ["Submitted by", "What", "Order id", "Submitted", "Approval id"]
    assert "99.00" not in all_text(blocks_of(card)) and "99.00" not in card["text"]
    assert approval_id in all_text(blocks_of(card))
    assert action_ids(blocks_of(card)) == [APPROVE_ACTION_ID, REJECT_ACTION_ID, DETAILS_ACTION_ID]
    assert len(order_reads(commerce, order_id)) == 3  # a read: retried, then given up on
    assert bot.runtime.metrics.registry.get_sample_value("approvals_cards_posted_total") == 1


def test_unknown_order_still_posts_the_card_without_details(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    commerce.remove_order(commerce.approval(approval_id)["entityId"])

    assert bot.poll_approvals() == 1

    (card,) = posted_cards(slack)
    assert "Total" not in card_fields(card) and "Items" not in card_fields(card)
    assert approval_id in all_text(blocks_of(card))


def test_buyer_approvals_do_not_read_any_order(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    commerce.add_approval(ApprovalKind.BUYER)

    assert bot.poll_approvals() == 1

    assert [r for r in commerce.requests if is_order_read(r)] == []
    (card,) = posted_cards(slack)
    assert "Total" not in card_fields(card)


def pollers_with_details(
    bot: RunningBot, details: OrderDetails, routes: Routes | None = None
) -> tuple[ApprovalsNotifier, CardAnnouncer]:
    """The approvals poll and the announcer of ``bot``, with their own ``details`` (and ``routes``)."""
    runtime = bot.runtime
    announcer = CardAnnouncer(
        runtime.commerce,
        runtime.store,
        runtime.cards,
        runtime.metrics,
        order_details=details,
    )
    notifier = ApprovalsNotifier(
        runtime.commerce,
        runtime.store,
        runtime.cards,
        runtime.metrics,
        announcer=announcer,
        decisions=runtime.decisions,
        order_details=details,
        policy=ListingPolicy(APPROVALS_CHANNEL, routes),
    )
    return notifier, announcer


def hold_order_reads(commerce: CommerceEmulator, gate: threading.Event) -> None:
    def held_orders(request: RecordedRequest) -> Response | None:
        if is_order_read(request):
            gate.wait(timeout=30)  # Commerce sits on the order read until the test lets go
        return None

    commerce.inject(held_orders)


def test_slow_order_details_do_not_hold_the_card_back(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    order_gate = threading.Event()
    hold_order_reads(commerce, order_gate)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    notifier, announcer = pollers_with_details(bot, OrderDetails(bot.runtime.commerce, budget_seconds=0.3))
    try:
        # The posting finishes while the order read is still held: the card did not wait for it.
        assert bot.call(notifier.poll_once()) == 0
        assert bot.call(announcer.poll_once()) == 1
        assert not order_gate.is_set()
    finally:
        order_gate.set()

    (card,) = posted_cards(slack)
    assert "Total" not in card_fields(card)
    assert approval_id in all_text(blocks_of(card))


def test_a_hanging_order_endpoint_holds_back_no_card_and_no_closing_and_details_fill_in_later(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    details = OrderDetails(bot.runtime.commerce, budget_seconds=0.3, timeout=30)
    notifier, announcer = pollers_with_details(bot, details)
    decided = commerce.add_approval(ApprovalKind.ORDER)
    assert bot.call(notifier.poll_once()) == 0 and bot.call(announcer.poll_once()) == 1
    (decided_card,) = posted_cards(slack)
    commerce.decide_elsewhere(decided, ApprovalState.APPROVED)
    gate = threading.Event()
    hold_order_reads(commerce, gate)
    new = [commerce.add_approval(ApprovalKind.ORDER, order_total="42.00") for _ in range(3)]
    try:
        # Every card goes out, and the decided one is closed, while Commerce sits on every order read:
        assert bot.call(notifier.poll_once()) == 0
        assert bot.call(announcer.poll_once()) == 3
        assert not gate.is_set()
        closed = card_updates(slack, slack.message_ts(decided_card))
        assert closed and action_ids(blocks_of(closed[-1])) == []
        # ... and those reads were asked for together, not one after another's timeout.
        wait_for(lambda: len([r for r in commerce.requests if is_order_read(r)]) >= 1 + 4, what="reads")
    finally:
        gate.set()
    cards = {a: next(c for c in posted_cards(slack) if a in all_text(blocks_of(c))) for a in new}
    assert all("Total" not in card_fields(card) for card in cards.values())

    def filled_in() -> bool:
        bot.call(notifier.poll_once())  # a later round rewrites the cards once the details came
        updates = [card_updates(slack, slack.message_ts(card)) for card in cards.values()]
        return all(u and card_fields(u[-1]).get("Total") == "EUR 42.00" for u in updates)

    wait_for(filled_in, what="the order details filled in")
    for card in cards.values():
        (update,) = card_updates(slack, slack.message_ts(card))  # once each
        assert action_ids(blocks_of(update)) == [
            APPROVE_ACTION_ID,
            REJECT_ACTION_ID,
            DETAILS_ACTION_ID,
        ]  # still open


def test_deciding_an_order_card_shows_the_details_the_card_has_without_reading_the_order_again(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_total="99.90", order_currency="EUR")
    order_id = commerce.approval(approval_id)["entityId"]
    bot.poll_approvals()
    (card,) = posted_cards(slack)
    ts = slack.message_ts(card)

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    (decided,) = wait_for(lambda: card_updates(slack, ts), what="the decided card")
    assert card_fields(decided)["Total"] == "EUR 99.90"
    assert action_ids(blocks_of(decided)) == []
    assert len(order_reads(commerce, order_id)) == 1  # for the card only


def test_details_filled_in_later_are_kept_for_the_decision_too(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    details = OrderDetails(bot.runtime.commerce, budget_seconds=0.3, timeout=30)
    notifier, announcer = pollers_with_details(bot, details)
    gate = threading.Event()
    hold_order_reads(commerce, gate)
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_total="42.00")
    order_id = commerce.approval(approval_id)["entityId"]
    try:
        assert bot.call(notifier.poll_once()) == 0 and bot.call(announcer.poll_once()) == 1
    finally:
        gate.set()
    (card,) = posted_cards(slack)
    ts = slack.message_ts(card)

    def filled_in() -> bool:
        bot.call(notifier.poll_once())
        updates = card_updates(slack, ts)
        return bool(updates) and card_fields(updates[-1]).get("Total") == "EUR 42.00"

    wait_for(filled_in, what="the order details filled in")
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    decided = wait_for(lambda: [u for u in card_updates(slack, ts) if not action_ids(blocks_of(u))])
    assert card_fields(decided[-1])["Total"] == "EUR 42.00"
    assert len(order_reads(commerce, order_id)) == 1  # the late read only


def test_a_round_asks_ahead_for_a_bounded_number_of_orders_and_the_rest_when_their_cards_go_out(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    details = OrderDetails(bot.runtime.commerce, prefetch_limit=5)
    notifier, announcer = pollers_with_details(bot, details)
    new = [commerce.add_approval(ApprovalKind.ORDER, order_total="7.00") for _ in range(12)]

    assert bot.call(notifier.poll_once()) == 0  # the cards are queued, not posted yet
    wait_for(lambda: len([r for r in commerce.requests if is_order_read(r)]) == 5, what="5 reads")
    assert stays(lambda: len([r for r in commerce.requests if is_order_read(r)]) == 5)

    assert bot.call(announcer.poll_once()) == 12
    cards = [next(c for c in posted_cards(slack) if a in all_text(blocks_of(c))) for a in new]
    assert all(card_fields(card).get("Total") == "EUR 7.00" for card in cards)
    assert len([r for r in commerce.requests if is_order_read(r)]) == 12  # each order read once
