"""End to end: the Details modal of an order approval, from its card and from the App Home.

The modal opens at once and the order follows; a long order pages inside it; Approve and Reject in
it take the card's decision path; who may not ``show`` approvals is refused before Commerce is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    DETAILS_ACTION_ID,
    DETAILS_PAGE_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
    REJECT_MODAL_CALLBACK_ID,
)
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER, OUTSIDER, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import action_ids, blocks_of, card_updates, click, decision_posts, post_card
from tests.waiting import wait_for


def modal_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def details_shown(slack: SlackEmulator, what: str) -> dict[str, Any]:
    """The one open modal, once it shows ``what``."""
    wait_for(lambda: any(what in modal_text(v) for v in slack.modals.values()), what=what)
    (view,) = [v for v in slack.modals.values() if what in modal_text(v)]
    return view


def order_reads(commerce: CommerceEmulator, order_id: str) -> list[RecordedRequest]:
    return commerce.requests_to("GET", f"/order/{order_id}")


def refused_views(slack: SlackEmulator) -> list[str]:
    return [
        c.response.get("error", "")
        for c in slack.call_log()
        if c.method.startswith("views.") and not c.response.get("ok")
    ]


def test_a_300_line_order_pages_inside_the_modal_with_every_fact_and_within_block_kit_limits(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id = commerce.add_approval(
        ApprovalKind.ORDER, order_total="30000.00", order_currency="EUR", order_items=300
    )
    order_id = commerce.approval(approval_id)["entityId"]
    commerce.set_order_charges(
        order_id, shipping="250.00", tax="6300.00", discount="1500.00", discount_text="Volume discount 5%"
    )
    bot.poll_approvals()
    (card,) = [c for c in slack.calls("chat.postMessage") if not c.get("thread_ts")]
    assert DETAILS_ACTION_ID in action_ids(blocks_of(card))
    ts = slack.message_ts(card)

    click(sender, slack, DETAILS_ACTION_ID, approval_id, APPROVER, ts)

    view = details_shown(slack, "Grand total")
    text = modal_text(view)
    po = commerce.order(order_id)["buyerPONumber"]
    for fact in (
        po,
        "Quarterly restock",
        "Deliver to dock 4, mornings only.",
        "2026-04-01",
        "Industrieweg 12",
        "3542 AD Utrecht",
        "Buyer Organization",
        "*300 lines* · showing 1\u201325",
        "`PART-001` · 1 C62 \u00d7 EUR 100.00 = *EUR 100.00*",
        "Volume discount 5%: EUR -1,500.00",
        "EUR 250.00",
        "EUR 6,300.00",
        "*EUR 35,050.00*",
    ):
        assert fact in text, fact
    assert "PART-026" not in text
    assert [a for a in action_ids(view["blocks"]) if "approval_" in a] == [
        APPROVE_ACTION_ID,
        REJECT_ACTION_ID,
    ]
    assert len(view["blocks"]) <= 100

    for page in range(2, 13):  # "Next lines" to the last page
        sender.modal_action(f"{DETAILS_PAGE_ACTION_ID}:next", f"{approval_id}:{page}", APPROVER, view)
        first = (page - 1) * 25 + 1
        view = details_shown(slack, f"showing {first}\u2013{first + 24}")
    assert f"PART-{300:03d}" in modal_text(view)
    assert f"{DETAILS_PAGE_ACTION_ID}:next" not in action_ids(view["blocks"])
    assert f"{DETAILS_PAGE_ACTION_ID}:previous" in action_ids(view["blocks"])
    last_read = order_reads(commerce, order_id)[-1]
    assert (last_read.q("pageNumber"), last_read.q("pageSize")) == ("12", "25")
    assert refused_views(slack) == []
    entries = bot.call(bot.runtime.store.audit_entries(approval_id))
    assert [(e.action, e.outcome, e.slack_user_id) for e in entries] == [("details", "ok", APPROVER)]


def test_an_order_whose_details_cannot_be_read_says_so_and_its_buttons_still_decide(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    boom = Response(
        status=500, body={"errors": [{"errorKey": "_ERR_GENERIC", "errorMessage": "boom", "errorCode": "X"}]}
    )
    commerce.inject(lambda request: boom if "/order/" in request.path else None)
    approval_id, ts = post_card(bot, slack, commerce)

    click(sender, slack, DETAILS_ACTION_ID, approval_id, APPROVER, ts)
    view = details_shown(slack, "could not give the details of order")
    assert APPROVE_ACTION_ID in action_ids(view["blocks"])

    sender.modal_action(APPROVE_ACTION_ID, approval_id, APPROVER, view)

    view = details_shown(slack, f"Approval {approval_id} approved.")
    assert APPROVE_ACTION_ID not in action_ids(view["blocks"])
    assert len(decision_posts(commerce, approval_id)) == 1
    assert commerce.approval(approval_id)["status"] == "1"
    wait_for(lambda: card_updates(slack, ts), what="the card shows the decision")
    actions = [e.action for e in bot.call(bot.runtime.store.audit_entries(approval_id))]
    assert sorted(actions) == ["approve", "details"]


def test_reject_in_the_modal_asks_for_a_reason_and_shows_the_outcome_on_the_details(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    click(sender, slack, DETAILS_ACTION_ID, approval_id, APPROVER, ts)
    details = details_shown(slack, "Grand total")

    sender.modal_action(REJECT_ACTION_ID, approval_id, APPROVER, details)
    wait_for(lambda: slack.calls("views.push"), what="the reject dialog on top")
    (pushed,) = [v for v in slack.modals.values() if v["callback_id"] == REJECT_MODAL_CALLBACK_ID]
    values = {
        REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "Over budget this quarter"}}
    }
    assert (
        sender.view_submission(
            REJECT_MODAL_CALLBACK_ID, pushed["private_metadata"], values, APPROVER
        ).status_code
        == 200
    )

    outcome = details_shown(slack, f"Approval {approval_id} rejected.")
    assert outcome["id"] == details["id"]
    assert commerce.approval(approval_id)["status"] == "2"
    wait_for(lambda: card_updates(slack, ts), what="the card shows the rejection")


def test_someone_who_may_not_show_approvals_is_refused_and_commerce_is_not_asked(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(viewers=APPROVER)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)
    order_id = commerce.approval(approval_id)["entityId"]
    reads_before = len(commerce.requests_to("GET", f"/approval_status/{approval_id}")) + len(
        order_reads(commerce, order_id)
    )

    url = click(sender, slack, DETAILS_ACTION_ID, approval_id, OUTSIDER, ts)

    wait_for(lambda: slack.responses(url), what="the refusal")
    assert "VIEWERS" in json.dumps(slack.responses(url))
    assert slack.calls("views.open") == []
    reads_after = len(commerce.requests_to("GET", f"/approval_status/{approval_id}")) + len(
        order_reads(commerce, order_id)
    )
    assert reads_after == reads_before
    entries = bot.call(bot.runtime.store.audit_entries(approval_id))
    assert [(e.action, e.outcome) for e in entries] == [("details", "refused")]


def test_a_viewer_who_is_no_approver_sees_the_details_without_buttons(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(viewers=OUTSIDER)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)

    click(sender, slack, DETAILS_ACTION_ID, approval_id, OUTSIDER, ts)

    view = details_shown(slack, "Grand total")
    assert APPROVE_ACTION_ID not in action_ids(view["blocks"])
    assert "Only this request's approvers" in modal_text(view)


def test_details_open_from_the_app_home(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_items=3)
    assert sender.app_home_opened(APPROVER).status_code == 200
    wait_for(lambda: slack.home_view(APPROVER) is not None, what="the Home")
    home = slack.home_view(APPROVER)
    assert home is not None and DETAILS_ACTION_ID in action_ids(home["blocks"])

    sender.home_action(DETAILS_ACTION_ID, approval_id, APPROVER)

    view = details_shown(slack, "*3 lines* · showing 1\u20133")
    assert APPROVE_ACTION_ID in action_ids(view["blocks"])


def reject_from_card(
    sender: SlackRequestSender, slack: SlackEmulator, approval_id: str, ts: str, reason: str
) -> None:
    opened = len(slack.calls("views.open"))
    click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts)
    view = wait_for(lambda: slack.opened_views[opened:], what="the reject dialog")[0]
    values = {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": reason}}}
    sender.view_submission(REJECT_MODAL_CALLBACK_ID, view["private_metadata"], values, APPROVER)
    wait_for(lambda: card_updates(slack, ts), what="the rejected card")


def test_details_show_the_bots_decisions_on_the_buyer_organization_without_asking_commerce_more(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    for _ in range(2):
        approval_id, ts = post_card(bot, slack, commerce)
        click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
        wait_for(lambda ts=ts: card_updates(slack, ts), what="the approved card")  # type: ignore[misc]
    approval_id, ts = post_card(bot, slack, commerce)
    reject_from_card(sender, slack, approval_id, ts, "PO number missing <!channel>")
    other = commerce.add_approval(ApprovalKind.ORDER, organization_id="7000000000000000999")
    bot.poll_approvals()
    other_ts = slack.message_ts(next(c for c in slack.calls("chat.postMessage") if other in json.dumps(c)))
    reject_from_card(sender, slack, other, other_ts, "Another organization's order")

    approval_id, ts = post_card(bot, slack, commerce)
    requests_before = len(commerce.requests)
    click(sender, slack, DETAILS_ACTION_ID, approval_id, APPROVER, ts)

    view = details_shown(slack, "Grand total")
    text = modal_text(view)
    assert "last 90 days in Slack:* 2 approved, 1 rejected." in text
    assert "PO number missing &lt;!channel&gt;" in text
    assert "Another organization" not in text
    asked = [(r.method, r.path.rsplit("/", 2)[-2]) for r in commerce.requests[requests_before:]]
    assert asked == [("GET", "approval_status"), ("GET", "order")]
