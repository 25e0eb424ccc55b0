"""Slack gets its ack before slow work starts; who may act is decided by APPROVERS alone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for


@pytest.fixture
def commerce_gate(commerce: CommerceEmulator) -> Iterator[threading.Event]:
    """While the gate is closed, every approval_status request waits inside Commerce."""
    gate = threading.Event()

    def hold(request: RecordedRequest) -> Response | None:
        if "/approval_status" in request.path:
            gate.wait(timeout=30)
        return None

    commerce.inject(hold)
    yield gate
    gate.set()


def test_button_click_is_acked_while_commerce_is_still_working(
    bot: RunningBot,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    sender: SlackRequestSender,
    commerce_gate: threading.Event,
) -> None:
    commerce_gate.set()
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    bot.poll_approvals()
    ts = slack.message_ts(slack.calls("chat.postMessage")[0])
    reads_before = len(commerce.requests_to("GET", f"/approval_status/{approval_id}"))
    commerce_gate.clear()

    response = sender.block_action(
        APPROVE_ACTION_ID,
        approval_id,
        user_id=APPROVER,
        channel_id=APPROVALS_CHANNEL,
        message_ts=ts,
        response_url=slack.new_response_url(),
    )

    # Slack has its 200 although the re-read of the approval is still held inside Commerce.
    assert response.status_code == 200
    wait_for(
        lambda: len(commerce.requests_to("GET", f"/approval_status/{approval_id}")) > reads_before,
        what="the re-read to reach Commerce",
    )
    assert commerce.requests_to("POST", f"/approval_status/{approval_id}") == []

    commerce_gate.set()
    wait_for(lambda: commerce.requests_to("POST", f"/approval_status/{approval_id}"), what="the decision")
    wait_for(lambda: slack.calls("chat.update"), what="the card update")


def test_slash_command_is_acked_before_commerce_answers(
    bot: RunningBot,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    sender: SlackRequestSender,
    commerce_gate: threading.Event,
) -> None:
    response_url = slack.new_response_url()
    response = sender.slash_command(
        "/approvals", "list", user_id=APPROVER, channel_id=APPROVALS_CHANNEL, response_url=response_url
    )
    assert response.status_code == 200
    assert slack.responses(response_url) == []

    commerce_gate.set()
    answer = wait_for(lambda: slack.responses(response_url), what="the list")[0]
    assert answer["response_type"] == "ephemeral"


def test_empty_approvers_means_nobody_may_decide(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(approvers="")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    bot.poll_approvals()
    ts = slack.message_ts(slack.calls("chat.postMessage")[0])
    response_url = slack.new_response_url()

    sender.block_action(
        APPROVE_ACTION_ID,
        approval_id,
        user_id=APPROVER,
        channel_id=APPROVALS_CHANNEL,
        message_ts=ts,
        response_url=response_url,
    )

    answer = wait_for(lambda: slack.responses(response_url), what="the refusal")[0]
    assert "not allowed" in answer["text"]
    assert commerce.requests_to("POST", f"/approval_status/{approval_id}") == []
