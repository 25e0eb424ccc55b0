"""End to end: a buyer registration's card and Details say who registered, read from Commerce's
person resource with the service account, and a slow person read never holds a card back."""

from __future__ import annotations

import json
import threading

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, DETAILS_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import action_ids, blocks_of, click, posted_cards
from tests.test_e2e_details import details_shown


def is_person_read(request: RecordedRequest) -> bool:
    return request.method == "GET" and "/person/" in request.path


def add_registration(commerce: CommerceEmulator) -> str:
    buyer = commerce.people.add("dana", email="dana@acme.example", organization_id="7000000000000000555")
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
