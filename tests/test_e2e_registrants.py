"""End to end: a buyer registration's card and Details say who registered, read from Commerce's
person resource with the service account, and a slow person read never holds a card back."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage, dm_channel
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, DETAILS_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SECOND_APPROVER, SIGNING_SECRET
from tests.identity_helpers import add_approver, link
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import action_ids, blocks_of, card_updates, click, decision_posts, posted_cards
from tests.test_e2e_details import details_shown, reject_from_card
from tests.waiting import wait_for

REGISTERED_BY = "*Registered by* Dana Buyer · dana@acme.example · Acme Tools B.V."


def is_person_read(request: RecordedRequest) -> bool:
    return request.method == "GET" and "/person/" in request.path


ACME = "7000000000000000555"


def add_registration(commerce: CommerceEmulator, logon_id: str = "dana") -> str:
    buyer = commerce.people.add(logon_id, email=f"{logon_id}@acme.example", organization_id=ACME)
    buyer.organization_name = "Acme Tools B.V."
    return commerce.add_approval(ApprovalKind.BUYER, submitter_id=buyer.user_id, first_name="Dana")


def test_a_buyer_card_and_its_details_say_who_registered(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id = add_registration(commerce)

    assert bot.poll_approvals() == 1

    (card,) = posted_cards(slack)
    text = json.dumps(blocks_of(card), ensure_ascii=False)
    assert "*Registered by* Dana Buyer · dana@acme.example · Acme Tools B.V." in text
    assert "Industrieweg 12, 3542 AD Utrecht, NL" in text
    (read,) = [r for r in commerce.requests if is_person_read(r)]
    assert read.headers["wctoken"] in commerce.issued_tokens  # the service account's session
    assert "forUserId" not in read.path and read.q("forUserId") is None

    click(sender, slack, DETAILS_ACTION_ID, approval_id, APPROVER, slack.message_ts(card))

    view = details_shown(slack, "Registered by")
    assert "dana@acme.example" in json.dumps(view["blocks"])
    assert APPROVE_ACTION_ID in action_ids(view["blocks"])


def test_a_hanging_person_read_holds_no_buyer_card_back(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    gate = threading.Event()

    def hang(request: RecordedRequest) -> Response | None:
        if is_person_read(request):
            gate.wait(10)
        return None

    commerce.inject(hang)
    add_registration(commerce)
    try:
        assert bot.poll_approvals() == 1
        (card,) = posted_cards(slack)
        assert "Registered by" not in json.dumps(blocks_of(card))
        assert action_ids(blocks_of(card))[:1] == [APPROVE_ACTION_ID]
    finally:
        gate.set()


def test_a_failing_person_read_leaves_the_card_as_before_and_details_say_so(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    boom = Response(
        status=500, body={"errors": [{"errorKey": "_ERR_GENERIC", "errorMessage": "boom", "errorCode": "X"}]}
    )
    commerce.inject(lambda request: boom if is_person_read(request) else None)
    approval_id = add_registration(commerce)

    assert bot.poll_approvals() == 1
    (card,) = posted_cards(slack)
    assert "Registered by" not in json.dumps(blocks_of(card))

    click(sender, slack, DETAILS_ACTION_ID, approval_id, APPROVER, slack.message_ts(card))
    view = details_shown(slack, "Commerce could not say who registered")
    assert APPROVE_ACTION_ID in action_ids(view["blocks"])


BUYER_DM_ROUTES = f"""
routes:
  - name: buyers-by-dm
    channel: {APPROVALS_CHANNEL}
    match: {{kind: buyer}}
    approvers: [{APPROVER}, {SECOND_APPROVER}]
    required_approvals: 2
    notify: dm
"""


def start_with_buyer_dm_route(start_bot: Callable[..., RunningBot], tmp_path: Path) -> RunningBot:
    routes = tmp_path / "routes.yaml"
    routes.write_text(BUYER_DM_ROUTES)
    return start_bot(approvals_routes_file=str(routes))


def every_copy(slack: SlackEmulator, approval_id: str) -> list[StoredMessage]:
    """The channel card and the DM copies of ``approval_id``, as they read now."""
    posted = [
        *slack.top_level_messages(APPROVALS_CHANNEL),
        *slack.top_level_messages(dm_channel(APPROVER)),
        *slack.top_level_messages(dm_channel(SECOND_APPROVER)),
    ]
    return [slack.message(m.channel, m.ts) for m in posted if approval_id in json.dumps(m.blocks)]


def all_show(slack: SlackEmulator, approval_id: str, *what: str) -> bool:
    shown = every_copy(slack, approval_id)
    texts = [json.dumps(m.blocks, ensure_ascii=False) for m in shown]
    return len(texts) == 3 and all(w in text for text in texts for w in what)


def test_every_copy_of_a_buyer_card_keeps_who_registered_through_a_vote_and_a_decision(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    bot = start_with_buyer_dm_route(start_bot, tmp_path)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    link(bot, APPROVER, add_approver(commerce, "jane.approver"))
    link(bot, SECOND_APPROVER, add_approver(commerce, "john.approver"))
    approval_id = add_registration(commerce)
    assert bot.poll_approvals() == 1
    assert all_show(slack, approval_id, REGISTERED_BY)
    person_reads = len([r for r in commerce.requests if is_person_read(r)])

    (card,) = posted_cards(slack)
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, slack.message_ts(card))
    wait_for(lambda: all_show(slack, approval_id, "1 of 2 approvals"), what="the vote on every copy")
    assert all_show(slack, approval_id, REGISTERED_BY)

    click(sender, slack, APPROVE_ACTION_ID, approval_id, SECOND_APPROVER, slack.message_ts(card))
    wait_for(lambda: all_show(slack, approval_id, "*Approved*"), what="the decision on every copy")
    assert all_show(slack, approval_id, REGISTERED_BY, "Industrieweg 12")
    assert len(decision_posts(commerce, approval_id)) == 1
    assert len([r for r in commerce.requests if is_person_read(r)]) == person_reads  # not asked again


def test_a_buyer_card_closed_after_a_decision_in_commerce_keeps_who_registered(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    bot = start_with_buyer_dm_route(start_bot, tmp_path)
    approval_id = add_registration(commerce)
    bot.poll_approvals()
    commerce.decide_elsewhere(approval_id, ApprovalState.REJECTED, "no")

    bot.poll_approvals()

    wait_for(lambda: all_show(slack, approval_id, "Rejected in Commerce"), what="every copy closed")
    assert all_show(slack, approval_id, REGISTERED_BY)


def test_details_of_a_registration_count_the_bots_decisions_on_the_registrants_organization(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    decided = [add_registration(commerce, name) for name in ("ann", "bob", "cas")]
    order = commerce.add_approval(ApprovalKind.ORDER, organization_id=ACME)
    elsewhere = commerce.add_approval(ApprovalKind.ORDER, organization_id="7000000000000000999")
    bot.poll_approvals()

    def card_ts(approval_id: str) -> str:
        cards = posted_cards(slack)
        return next(slack.message_ts(c) for c in cards if approval_id in json.dumps(blocks_of(c)))

    for approval_id in (decided[0], decided[1], order):
        ts = card_ts(approval_id)
        click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
        wait_for(lambda ts=ts: card_updates(slack, ts), what="the approved card")  # type: ignore[misc]
    reject_from_card(sender, slack, decided[2], card_ts(decided[2]), "Not a customer of ours")
    reject_from_card(sender, slack, elsewhere, card_ts(elsewhere), "Another organization's order")

    approval_id = add_registration(commerce, "dana")
    bot.poll_approvals()
    requests_before = len(commerce.requests)
    click(sender, slack, DETAILS_ACTION_ID, approval_id, APPROVER, card_ts(approval_id))

    text = json.dumps(details_shown(slack, "last 90 days")["blocks"], ensure_ascii=False)
    assert "last 90 days in Slack:* 3 approved, 1 rejected." in text
    assert "Not a customer of ours" in text and "Another organization" not in text
    asked = [(r.method, r.path.rsplit("/", 2)[-2]) for r in commerce.requests[requests_before:]]
    assert asked == [("GET", "approval_status"), ("GET", "person")]  # no read for the history
