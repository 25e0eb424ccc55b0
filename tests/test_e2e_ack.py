"""Acks come first: answers that need no backend are in the ack, slow work runs after it, and a full
bot says it is busy instead of queueing without limit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial

import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import RESPONSE_URL_PREFIX, SlackEmulator
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for


@pytest.fixture
def commerce_gate(commerce: CommerceEmulator) -> Iterator[threading.Event]:
    """While the gate is shut, Commerce sits on every approval listing (like a slow server)."""
    gate = threading.Event()

    def held_listing(request: RecordedRequest) -> Response | None:
        if request.method == "GET" and request.path.endswith("/approval_status"):
            gate.wait(timeout=30)
        return None

    commerce.inject(held_listing)
    yield gate
    gate.set()


def test_help_is_answered_in_the_ack_without_a_response_url_round_trip(
    bot: RunningBot, slack: SlackEmulator, sender: SlackRequestSender
) -> None:
    response_url = slack.new_response_url()
    response = sender.slash_command("/approvals", "help", user_id=APPROVER, response_url=response_url)

    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert "How to use /approvals" in answer["text"]
    assert "/approvals list" in str(answer["blocks"])
    assert slack.responses(response_url) == []


def test_a_parse_error_is_answered_in_the_ack_with_the_help(
    bot: RunningBot, slack: SlackEmulator, sender: SlackRequestSender
) -> None:
    response = sender.slash_command("/process-status", "watch a/b", user_id=APPROVER)

    answer = response.json()
    assert "letters, digits" in answer["text"]
    assert "How to use /process-status" in str(answer["blocks"])


def test_a_slow_command_is_acked_at_once_and_answered_later(
    bot: RunningBot,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    sender: SlackRequestSender,
    commerce_gate: threading.Event,
) -> None:
    commerce.add_approval(ApprovalKind.ORDER)
    response_url = slack.new_response_url()

    response = sender.slash_command("/approvals", "list", user_id=APPROVER, response_url=response_url)

    # Commerce has not answered yet, and the ack is already back, empty.
    assert response.status_code == 200
    assert response.content == b""
    assert slack.responses(response_url) == []
    commerce_gate.set()
    answer = wait_for(lambda: slack.responses(response_url), what="the list")[0]
    assert "Pending approvals" in answer["text"] or "approval" in answer["text"].lower()


def test_beyond_its_bound_the_bot_says_busy_in_the_ack(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    commerce_gate: threading.Event,
) -> None:
    bot = start_bot(max_concurrent_work=1)  # one running, four waiting: the sixth is refused
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    urls = [slack.new_response_url() for _ in range(6)]
    acks = [
        sender.slash_command("/approvals", "list", user_id=APPROVER, response_url=url).content for url in urls
    ]

    assert acks[:5] == [b""] * 5
    assert b"busy" in acks[5]
    commerce_gate.set()
    for url in urls[:5]:
        wait_for(partial(slack.responses, url), what="each accepted command's answer")
    assert slack.responses(urls[5]) == []


def test_answers_and_web_api_calls_share_one_kept_alive_connection(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    commerce.add_approval(ApprovalKind.ORDER)
    urls = [slack.new_response_url() for _ in range(3)]
    for url in urls:
        sender.slash_command(
            "/approvals", "list", user_id=APPROVER, channel_id=APPROVALS_CHANNEL, response_url=url
        )
        wait_for(partial(slack.responses, url), what="the answer")

    answers = [r for r in slack.requests if r.path.startswith(RESPONSE_URL_PREFIX)]
    assert len(answers) == 3
    assert len({r.client_port for r in answers}) == 1
