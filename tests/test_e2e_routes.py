"""End to end: routes send each card to its channel with its own approvers, and the two-person rule.

Commerce and Slack emulators on loopback, the real bot, real signed Slack requests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator, errors_body
from bot.sandbox.slack import SlackEmulator
from bot.services.order_details import OrderDetails
from bot.services.routes_file import read_routes
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
    REJECT_MODAL_CALLBACK_ID,
)
from bot.storage.records import AuditEntry
from tests.bot_runner import RunningBot
from tests.clock import ManualClock
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.identity_helpers import add_approver, link
from tests.routes_helpers import (
    ACME,
    ACME_APPROVER,
    ACME_CHANNEL,
    BUYERS_CHANNEL,
    FINANCE_1,
    FINANCE_2,
    FINANCE_GROUP,
    LARGE_CHANNEL,
    ROUTES,
    blocks_of,
    card_in,
    channels_of_cards,
    link_finance,
    routes_file,
    updates_of,
)
from tests.slack_requests import SlackRequestSender
from tests.store_helpers import audit_entries
from tests.test_e2e_app_home import listed_ids as home_buttons
from tests.test_e2e_app_home import open_home
from tests.test_e2e_approvals import decision_posts
from tests.test_e2e_order_details import pollers_with_details
from tests.waiting import stays, wait_for

MONDAY_10_UTC = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def routed_bot(
    start_bot: Callable[..., RunningBot], tmp_path: Path, commerce: CommerceEmulator
) -> RunningBot:
    bot = start_bot(approvals_routes_file=routes_file(tmp_path))
    link_finance(bot, commerce)
    return bot


@pytest.fixture
def routed_sender(routed_bot: RunningBot) -> SlackRequestSender:
    return SlackRequestSender(routed_bot.url, SIGNING_SECRET)


def announce(bot: RunningBot, slack: SlackEmulator, channel: str, approval_id: str) -> tuple[str, str]:
    """Polls until the card is posted in ``channel``; (approval id, card ts)."""
    bot.poll_approvals()
    card = card_in(slack, channel, approval_id)
    assert card is not None, (
        f"no card for {approval_id} in {channel}: {channels_of_cards(slack, approval_id)}"
    )
    return approval_id, slack.message_ts(card)


def approve(
    sender: SlackRequestSender, slack: SlackEmulator, channel: str, approval_id: str, ts: str, user: str
) -> str:
    """A signed Approve click on the card; the response_url the bot answers at."""
    url = slack.new_response_url()
    response = sender.block_action(
        APPROVE_ACTION_ID, approval_id, user_id=user, channel_id=channel, message_ts=ts, response_url=url
    )
    assert response.status_code == 200
    return url


def one_vote_in(
    bot: RunningBot, sender: SlackRequestSender, slack: SlackEmulator, commerce: CommerceEmulator
) -> tuple[str, str]:
    """A large order's card (two approvals needed) showing FINANCE_1's vote: (approval id, card ts)."""
    approval_id, ts = announce(
        bot, slack, LARGE_CHANNEL, commerce.add_approval(ApprovalKind.ORDER, order_total="30000")
    )
    approve(sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
    wait_for(lambda: updates_of(slack, ts), what="the card showing the vote")
    return approval_id, ts


def answer_text(slack: SlackEmulator, url: str) -> str:
    return str(wait_for(lambda: slack.responses(url), what="the ephemeral answer")[-1]["text"])


def test_routes_send_cards_by_kind_organization_and_total_and_the_rest_to_the_fallback(
    routed_bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    large = commerce.add_approval(ApprovalKind.ORDER, order_total="12000.00", organization_id=ACME)
    acme = commerce.add_approval(ApprovalKind.ORDER, order_total="90.00", organization_id=ACME)
    buyer = commerce.add_approval(ApprovalKind.BUYER)
    other = commerce.add_approval(ApprovalKind.ORDER, order_total="9999.99")

    routed_bot.poll_approvals()

    assert channels_of_cards(slack, large) == [LARGE_CHANNEL]  # first match wins over the organization
    assert channels_of_cards(slack, acme) == [ACME_CHANNEL]
    assert channels_of_cards(slack, buyer) == [BUYERS_CHANNEL]
    assert channels_of_cards(slack, other) == [APPROVALS_CHANNEL]
    stored = {
        approval_id: routed_bot.call(routed_bot.runtime.store.get_card(approval_id))
        for approval_id in (large, acme, buyer, other)
    }
    assert {a: c.channel for a, c in stored.items() if c is not None} == {
        large: LARGE_CHANNEL,
        acme: ACME_CHANNEL,
        buyer: BUYERS_CHANNEL,
        other: APPROVALS_CHANNEL,
    }


def test_a_routes_approvers_replace_approvers_for_the_approvals_it_matches(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    acme, acme_ts = announce(
        routed_bot, slack, ACME_CHANNEL, commerce.add_approval(ApprovalKind.ORDER, organization_id=ACME)
    )
    other, other_ts = announce(
        routed_bot, slack, APPROVALS_CHANNEL, commerce.add_approval(ApprovalKind.ORDER)
    )

    refused = approve(routed_sender, slack, ACME_CHANNEL, acme, acme_ts, APPROVER)
    assert "its route (acme) names its own approvers" in answer_text(slack, refused)
    outsider = approve(routed_sender, slack, APPROVALS_CHANNEL, other, other_ts, ACME_APPROVER)
    assert "not allowed" in answer_text(slack, outsider)
    assert decision_posts(commerce, acme) == [] and decision_posts(commerce, other) == []

    approve(routed_sender, slack, ACME_CHANNEL, acme, acme_ts, ACME_APPROVER)
    approve(routed_sender, slack, APPROVALS_CHANNEL, other, other_ts, APPROVER)

    wait_for(lambda: updates_of(slack, acme_ts) and updates_of(slack, other_ts), what="both cards decided")
    assert len(decision_posts(commerce, acme)) == 1 and len(decision_posts(commerce, other)) == 1
    assert commerce.approval(acme)["status"] == "1"
    assert ACME_APPROVER in decision_posts(commerce, acme)[0].json()["comments"]

    # The card is rewritten while the decision is recorded: wait for the record, not only the card.
    def both_rows() -> list[AuditEntry]:
        entries = routed_bot.call(audit_entries(routed_bot.runtime.store, acme))
        return entries if len(entries) == 2 else []

    audit = wait_for(both_rows, what="both audit rows")
    assert {(a.slack_user_id, a.outcome) for a in audit} == {(APPROVER, "refused"), (ACME_APPROVER, "ok")}


def test_two_distinct_approvers_are_needed_before_the_one_commerce_approve(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    approval_id, ts = announce(
        routed_bot, slack, LARGE_CHANNEL, commerce.add_approval(ApprovalKind.ORDER, order_total="30000")
    )
    posted = card_in(slack, LARGE_CHANNEL, approval_id)
    assert posted is not None
    assert "Needs 2 approvals from different approvers." in json.dumps(blocks_of(posted))

    first = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)

    assert "recorded (1 of 2 approvals)" in answer_text(slack, first)
    update = wait_for(lambda: updates_of(slack, ts), what="the card showing the vote")[-1]
    assert f"1 of 2 approvals: <@{FINANCE_1}>" in json.dumps(blocks_of(update))
    assert APPROVE_ACTION_ID in json.dumps(blocks_of(update))  # the buttons stay
    assert decision_posts(commerce, approval_id) == []

    again = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
    assert "You already approved" in answer_text(slack, again)
    assert decision_posts(commerce, approval_id) == []

    approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_2)

    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the Commerce approve")
    wait_for(lambda: len(updates_of(slack, ts)) >= 2, what="the card showing the decision")
    assert stays(lambda: len(decision_posts(commerce, approval_id)) == 1)
    comment = decision_posts(commerce, approval_id)[0].json()["comments"]
    assert FINANCE_2 in comment and f"also approved by {FINANCE_1}" in comment
    decided = json.dumps(blocks_of(updates_of(slack, ts)[-1]))
    assert "Approved" in decided and APPROVE_ACTION_ID not in decided
    audit = wait_for(
        lambda: (
            [
                (a.slack_user_id, a.outcome)
                for a in reversed(routed_bot.call(audit_entries(routed_bot.runtime.store, approval_id)))
            ]
            if len(routed_bot.call(audit_entries(routed_bot.runtime.store, approval_id))) == 4
            else None
        ),
        what="four audit rows",
    )
    assert audit == [
        (FINANCE_1, "voted"),
        (FINANCE_1, "already_voted"),
        (FINANCE_2, "voted"),
        (FINANCE_2, "ok"),
    ]


def test_an_order_below_the_two_person_bar_needs_one_route_approver(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    approval_id, ts = announce(
        routed_bot, slack, LARGE_CHANNEL, commerce.add_approval(ApprovalKind.ORDER, order_total="20000")
    )

    approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_2)

    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the Commerce approve")
    assert len(decision_posts(commerce, approval_id)) == 1


def test_a_reject_after_one_vote_ends_it_at_once(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    approval_id, ts = one_vote_in(routed_bot, routed_sender, slack, commerce)

    response = routed_sender.block_action(
        REJECT_ACTION_ID, approval_id, user_id=FINANCE_2, channel_id=LARGE_CHANNEL, message_ts=ts
    )
    assert response.status_code == 200
    opened = wait_for(lambda: slack.calls("views.open"), what="the reject modal")[0]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    submitted = routed_sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "Not in budget"}}},
        user_id=FINANCE_2,
    )
    assert submitted.status_code == 200

    wait_for(lambda: commerce.approval(approval_id)["status"] == "2", what="the Commerce reject")
    (post,) = decision_posts(commerce, approval_id)
    assert post.json()["aprv_act"] == "2"
    wait_for(lambda: "Rejected" in json.dumps(blocks_of(updates_of(slack, ts)[-1])), what="the rejected card")

    late = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
    assert "already rejected" in answer_text(slack, late) or "no longer pending" in answer_text(slack, late)
    assert len(decision_posts(commerce, approval_id)) == 1


def test_reminders_in_a_routes_channel_mention_that_routes_approvers(
    start_bot: Callable[..., RunningBot], tmp_path: Path, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    clock = ManualClock(MONDAY_10_UTC)
    bot = start_bot(approvals_routes_file=routes_file(tmp_path), clock=clock)
    _, acme_ts = announce(
        bot, slack, ACME_CHANNEL, commerce.add_approval(ApprovalKind.ORDER, organization_id=ACME)
    )
    _, other_ts = announce(bot, slack, APPROVALS_CHANNEL, commerce.add_approval(ApprovalKind.ORDER))

    clock.advance(timedelta(hours=4))
    assert bot.poll("reminders") == 2

    (acme_reminder,) = slack.thread_replies(ACME_CHANNEL, acme_ts)
    (other_reminder,) = slack.thread_replies(APPROVALS_CHANNEL, other_ts)
    assert f"<@{ACME_APPROVER}>" in json.dumps(acme_reminder.blocks)
    assert f"<@{APPROVER}>" not in json.dumps(acme_reminder.blocks)
    assert f"<@{APPROVER}>" in json.dumps(other_reminder.blocks)


def test_an_approver_named_only_by_a_route_gets_the_approver_home(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_total="30000")  # a large order: theirs

    assert routed_sender.app_home_opened(FINANCE_1).status_code == 200
    view = wait_for(lambda: slack.home_view(FINANCE_1), what="the Home view")

    assert view is not None
    assert f'"value": "{approval_id}"' in json.dumps(view["blocks"])


def test_a_complete_count_whose_approve_commerce_refused_is_sent_again_by_a_voters_next_click(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    approval_id, ts = one_vote_in(routed_bot, routed_sender, slack, commerce)
    commerce.fail_next(
        1,
        errors_body(400, "_ERR_LOCKED", "The order is locked.", "CWX0002E"),
        when=lambda r: r.method == "POST",
    )

    refused = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_2)
    assert "The order is locked." in answer_text(slack, refused)
    assert commerce.approval(approval_id)["status"] == "0"

    retried = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)

    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the approve sent again")
    assert len(decision_posts(commerce, approval_id)) == 2
    wait_for(lambda: "Approved" in json.dumps(blocks_of(updates_of(slack, ts)[-1])), what="the decided card")
    assert stays(lambda: slack.responses(retried) == [])  # done, and the card shows it: nothing to say
    assert f"also approved by {FINANCE_2}" in decision_posts(commerce, approval_id)[-1].json()["comments"]


def test_an_order_that_cannot_be_read_is_neither_misrouted_nor_decided_past_its_route(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    orders_gone = threading.Event()

    def hidden_orders(request: RecordedRequest) -> Response | None:
        if orders_gone.is_set() and request.method == "GET" and "/order/" in request.path:
            return errors_body(404, "_ERR_ORDER_NOT_FOUND", "The order was not found.", "CWXFR0222E")
        return None

    commerce.inject(hidden_orders)
    orders_gone.set()
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_total="30000")

    routed_bot.poll_approvals()
    assert channels_of_cards(slack, approval_id) == []  # not to the fallback channel: it waits

    orders_gone.clear()
    _, ts = announce(routed_bot, slack, LARGE_CHANNEL, approval_id)
    orders_gone.set()

    for user in (APPROVER, FINANCE_1):
        url = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, user)
        assert "its route (who may decide" in answer_text(slack, url)
    assert decision_posts(commerce, approval_id) == []
    assert routed_bot.call(routed_bot.runtime.store.voters(approval_id)) == []


def test_a_submitter_may_not_vote_and_the_approve_goes_as_the_last_voter_with_linked_users(
    start_bot: Callable[..., RunningBot], tmp_path: Path, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    # The buyer is an approver of the route too: only their own request is kept from them.
    with_buyer = ROUTES.replace(f"[{FINANCE_1}, {FINANCE_2}]", f"[{APPROVER}, {FINANCE_1}, {FINANCE_2}]")
    bot = start_bot(approvals_routes_file=routes_file(tmp_path, with_buyer), decide_as="linked-user")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    buyer, first, second = (add_approver(commerce, name) for name in ("fin.buyer", "fin.one", "fin.two"))
    for slack_user, person in ((APPROVER, buyer), (FINANCE_1, first), (FINANCE_2, second)):
        link(bot, slack_user, person)
    approval_id, ts = announce(
        bot,
        slack,
        LARGE_CHANNEL,
        commerce.add_approval(ApprovalKind.ORDER, order_total="30000", submitter_id=buyer.user_id),
    )

    own = approve(sender, slack, LARGE_CHANNEL, approval_id, ts, APPROVER)
    assert "submitted" in answer_text(slack, own)
    assert bot.call(bot.runtime.store.voters(approval_id)) == []

    approve(sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
    wait_for(lambda: bot.call(bot.runtime.store.voters(approval_id)) == [FINANCE_1], what="the first vote")
    approve(sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_2)

    [post] = wait_for(lambda: decision_posts(commerce, approval_id), what="the Commerce approve")
    assert post.q("forUserId") == second.user_id
    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the approve")
    votes = [e for e in bot.call(audit_entries(bot.runtime.store, approval_id)) if e.outcome == "voted"]
    assert [(e.slack_user_id, e.commerce_user_id) for e in reversed(votes)] == [
        (FINANCE_1, first.user_id),
        (FINANCE_2, second.user_id),
    ]


def test_a_hanging_read_of_the_route_ends_within_one_read_budget_with_nothing_sent(
    start_bot: Callable[..., RunningBot],
    tmp_path: Path,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    """The route's read is bounded like the decision's own read (the drain counts on it): one try
    held by Commerce ends the click with nothing sent, never three timeouts of retries."""
    bot = start_bot(approvals_routes_file=routes_file(tmp_path), commerce_timeout_seconds=3.0)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_total="30000")
    _, ts = announce(bot, slack, LARGE_CHANNEL, approval_id)
    gate = threading.Event()
    path = f"/approval_status/{approval_id}"

    def held(request: RecordedRequest) -> Response | None:
        if request.method == "GET" and request.path.endswith(path):
            gate.wait(timeout=60)
        return None

    commerce.inject(held)
    try:
        url = approve(sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
        answer = wait_for(
            lambda: [r for r in slack.responses(url) if "Still working" not in r["text"]],
            what="the answer after the note",
        )[-1]["text"]
        assert not gate.is_set()
        assert "route" in answer and "Nothing was sent" in answer
        assert len(commerce.requests_to("GET", path)) == 1  # no retry past the read's budget
        assert decision_posts(commerce, approval_id) == []
    finally:
        gate.set()


def test_the_still_working_note_counts_the_routes_read_in_the_longest_wait(
    start_bot: Callable[..., RunningBot],
    tmp_path: Path,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    """With routes a decision may wait one read for the route, then its own budget (two timeouts):
    the note promises all three, not just the decision's budget."""
    bot = start_bot(approvals_routes_file=routes_file(tmp_path), commerce_timeout_seconds=4.0)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_total="90.00", organization_id=ACME)
    _, ts = announce(bot, slack, ACME_CHANNEL, approval_id)
    gate = threading.Event()

    def held(request: RecordedRequest) -> Response | None:
        if request.method == "POST" and request.path.endswith(f"/approval_status/{approval_id}"):
            gate.wait(timeout=60)
        return None

    commerce.inject(held)
    try:
        url = approve(sender, slack, ACME_CHANNEL, approval_id, ts, ACME_APPROVER)
        note = wait_for(lambda: slack.responses(url), what="the still-working note")[0]["text"]
        assert "Still working on approval" in note and "12 s at most in all" in note
    finally:
        gate.set()


def test_the_completing_voters_own_comment_goes_to_commerce_with_the_other_votes(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    approval_id, _ = one_vote_in(routed_bot, routed_sender, slack, commerce)

    response = routed_sender.slash_command(
        "/approvals",
        f"approve {approval_id} budget checked by finance",
        FINANCE_2,
        channel_id=LARGE_CHANNEL,
        response_url=slack.new_response_url(),
    )
    assert response.status_code == 200

    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the Commerce approve")
    (post,) = decision_posts(commerce, approval_id)
    comment = post.json()["comments"]
    assert "budget checked by finance" in comment and f"also approved by {FINANCE_1}" in comment


def test_late_order_details_keep_the_votes_line_of_a_two_person_card(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
) -> None:
    routes = read_routes(Path(routes_file(tmp_path)), APPROVALS_CHANNEL)
    details = OrderDetails(routed_bot.runtime.commerce, budget_seconds=0.3, timeout=30)
    notifier, announcer = pollers_with_details(routed_bot, details, routes)
    gate = threading.Event()
    order_reads = [0]

    def second_order_read_held(request: RecordedRequest) -> Response | None:
        if request.method == "GET" and "/order/" in request.path:
            order_reads[0] += 1
            if order_reads[0] == 2:  # the card's details, after the routing's own read
                gate.wait(timeout=30)
        return None

    commerce.inject(second_order_read_held)
    approval_id = commerce.add_approval(ApprovalKind.ORDER, order_total="30000")
    try:
        assert routed_bot.call(notifier.poll_once()) == 0
        assert routed_bot.call(announcer.poll_once()) == 1
        posted = card_in(slack, LARGE_CHANNEL, approval_id)
        assert posted is not None and "Total" not in json.dumps(blocks_of(posted))
        ts = slack.message_ts(posted)
        approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
        wait_for(lambda: updates_of(slack, ts), what="the card showing the vote")
    finally:
        gate.set()

    def filled_in() -> bool:
        routed_bot.call(notifier.poll_once())
        return "30,000.00" in json.dumps(blocks_of(updates_of(slack, ts)[-1]))

    wait_for(filled_in, what="the order details filled in")
    redrawn = json.dumps(blocks_of(updates_of(slack, ts)[-1]))
    assert f"1 of 2 approvals: <@{FINANCE_1}>" in redrawn
    assert APPROVE_ACTION_ID in redrawn


def test_a_buyer_approval_submitted_by_someone_else_is_decided_on_the_route_its_card_took(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    registered = commerce.add_approval(ApprovalKind.BUYER, entity_id="3000000000000000042")
    assert commerce.approval(registered)["submitterId"] != "3000000000000000042"
    approval_id, ts = announce(routed_bot, slack, BUYERS_CHANNEL, registered)

    url = approve(routed_sender, slack, BUYERS_CHANNEL, approval_id, ts, APPROVER)

    wait_for(
        lambda: commerce.approval(approval_id)["status"] == "1" or slack.responses(url),
        what="the Commerce approve or an answer",
    )
    assert slack.responses(url) == []
    assert len(decision_posts(commerce, approval_id)) == 1


def test_moving_a_link_after_a_vote_never_casts_that_persons_second_vote(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    jane = add_approver(commerce, "jane.finance")
    link(routed_bot, FINANCE_1, jane)
    approval_id, ts = announce(
        routed_bot, slack, LARGE_CHANNEL, commerce.add_approval(ApprovalKind.ORDER, order_total="30000")
    )
    first = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
    assert "recorded (1 of 2 approvals)" in answer_text(slack, first)
    # Jane moves her link to her other Slack account, and votes again from there.
    routed_bot.call(routed_bot.runtime.store.unlink_identity(FINANCE_1))
    routed_bot.call(routed_bot.runtime.store.unlink_identity(FINANCE_2))
    link(routed_bot, FINANCE_2, jane)

    second = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_2)

    assert "recorded (1 of 2 approvals)" in answer_text(slack, second)
    assert stays(lambda: decision_posts(commerce, approval_id) == [])
    assert commerce.approval(approval_id)["status"] == "0"


def test_an_unlinked_approver_may_not_vote_on_a_two_person_route(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    routed_bot.call(routed_bot.runtime.store.unlink_identity(FINANCE_1))
    approval_id, ts = announce(
        routed_bot, slack, LARGE_CHANNEL, commerce.add_approval(ApprovalKind.ORDER, order_total="30000")
    )

    url = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)

    assert "only approvers linked to a Commerce user may vote" in answer_text(slack, url)
    assert routed_bot.call(routed_bot.runtime.store.voters(approval_id)) == []
    assert decision_posts(commerce, approval_id) == []


def test_a_voter_removed_from_the_route_has_the_vote_dropped_when_the_count_completes(
    start_bot: Callable[..., RunningBot], tmp_path: Path, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    grouped = ROUTES.replace(f"[{FINANCE_1}, {FINANCE_2}]", f"[{FINANCE_GROUP}, {FINANCE_2}]")
    slack.usergroups[FINANCE_GROUP] = [FINANCE_1]
    bot = start_bot(approvals_routes_file=routes_file(tmp_path, grouped))
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    link_finance(bot, commerce)
    approval_id, ts = announce(
        bot, slack, LARGE_CHANNEL, commerce.add_approval(ApprovalKind.ORDER, order_total="30000")
    )
    first = approve(sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
    assert "recorded (1 of 2 approvals)" in answer_text(slack, first)
    slack.usergroups[FINANCE_GROUP] = []  # FINANCE_1 leaves finance

    second = approve(sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_2)

    told = answer_text(slack, second)
    assert f"the earlier approval of <@{FINANCE_1}> no longer counts" in told
    assert stays(lambda: decision_posts(commerce, approval_id) == [])
    assert bot.call(bot.runtime.store.voters(approval_id)) == [FINANCE_2]
    card = json.dumps(blocks_of(updates_of(slack, ts)[-1]))
    assert f"the approval of <@{FINANCE_1}>, who is no longer an approver" in card
    assert f"1 of 2 approvals: <@{FINANCE_2}>" in card
    dm = wait_for(
        lambda: [c for c in slack.calls("chat.postMessage") if c.get("channel") == FINANCE_1],
        what="the dropped voter told",
    )
    assert f"approval of request {approval_id} no longer counts" in dm[0]["text"]
    dropped = [
        e for e in bot.call(audit_entries(bot.runtime.store, approval_id)) if e.outcome == "vote_dropped"
    ]
    assert [e.slack_user_id for e in dropped] == [FINANCE_1]


def test_an_order_in_a_currency_the_route_does_not_name_takes_the_two_person_path_and_says_why(
    routed_bot: RunningBot,
    routed_sender: SlackRequestSender,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    kwd = commerce.add_approval(ApprovalKind.ORDER, order_total="9000", order_currency="KWD")  # ~27,000 EUR

    approval_id, ts = announce(routed_bot, slack, LARGE_CHANNEL, kwd)

    posted = card_in(slack, LARGE_CHANNEL, approval_id)
    assert posted is not None
    shown = json.dumps(blocks_of(posted))
    assert "total is in KWD" in shown and "large-orders" in shown and "stricter path" in shown
    assert "Needs 2 approvals from different approvers." in shown
    first = approve(routed_sender, slack, LARGE_CHANNEL, approval_id, ts, FINANCE_1)
    assert "recorded (1 of 2 approvals)" in answer_text(slack, first)
    assert "total is in KWD" in json.dumps(blocks_of(updates_of(slack, ts)[-1]))
    assert decision_posts(commerce, approval_id) == []


def test_the_home_lists_only_the_approvals_the_viewer_may_decide(
    routed_bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    large = commerce.add_approval(ApprovalKind.ORDER, order_total="30000")
    acme = commerce.add_approval(ApprovalKind.ORDER, order_total="90.00", organization_id=ACME)
    other = commerce.add_approval(ApprovalKind.ORDER, order_total="50.00")
    sender = SlackRequestSender(routed_bot.url, SIGNING_SECRET)

    offered = {
        user: home_buttons(open_home(sender, slack, user)) for user in (APPROVER, ACME_APPROVER, FINANCE_1)
    }

    assert offered[APPROVER] == [other]
    assert offered[ACME_APPROVER] == [acme]
    assert offered[FINANCE_1] == [large]
    assert "go to other approvers" in json.dumps(slack.home_view(APPROVER))
