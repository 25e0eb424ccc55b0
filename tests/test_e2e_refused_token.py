"""A bot token Slack refuses: ``/readyz`` says so, slash commands get our own line, logs tell the truth."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.inbound.app import CANNOT_ACT_IN_SLACK_MESSAGE
from tests.bot_runner import RunningBot
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for


def readyz(bot: RunningBot) -> httpx.Response:
    return httpx.get(f"{bot.url}/readyz", timeout=30)


def test_a_token_slack_refuses_at_start_makes_readyz_503_with_the_reason(
    start_bot: Callable[..., RunningBot], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        bot = start_bot(slack_bot_token="xoxb-a-token-slack-never-issued")
    answer = readyz(bot)
    assert answer.status_code == 503
    assert "invalid_auth" in answer.json()["slack"] and "SLACK_BOT_TOKEN" in answer.json()["slack"]
    assert answer.json()["database"] == "ok"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("SLACK_BOT_TOKEN" in line for line in errors), errors
    assert all("xoxb-a-token" not in line for line in errors)


def test_a_token_revoked_while_running_turns_readyz_503_and_back_once_slack_accepts_it(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    assert readyz(bot).status_code == 200
    slack.token = "xoxb-the-token-slack-knows-now"
    commerce.add_approval(ApprovalKind.ORDER)
    with pytest.raises(Exception):  # noqa: B017 - the round fails; which exception is not the point
        bot.poll_approvals()
    assert readyz(bot).status_code == 503
    slack.token = BOT_TOKEN  # the operator fixed it (or Slack had a bad minute)
    bot.poll_approvals()
    assert readyz(bot).status_code == 200


def test_a_slash_command_under_a_refused_token_gets_our_plain_line(
    start_bot: Callable[..., RunningBot],
) -> None:
    bot = start_bot(slack_bot_token="xoxb-a-token-slack-never-issued")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    answer = sender.slash_command("/approvals", "list", user_id="U_APPROVER")
    assert answer.status_code == 200
    assert answer.text == CANNOT_ACT_IN_SLACK_MESSAGE
    assert "reinstall" not in answer.text


def test_the_notifier_says_recovered_only_after_the_refused_card_is_posted(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def post_message(request: RecordedRequest) -> bool:
        return request.path.endswith("/chat.postMessage")

    slack.fail_next(1, Response(body={"ok": False, "error": "invalid_auth"}), when=post_message)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    with caplog.at_level(logging.INFO, logger="bot"):
        start_bot(notifier_enabled=True, approvals_poll_seconds=3, process_status_poll_seconds=60)
        wait_for(
            lambda: any("announcements poll recovered" in r.getMessage() for r in caplog.records),
            what="the announcer to recover",
        )
    posted = [c for c in slack.calls("chat.postMessage") if approval_id in json.dumps(c["blocks"])]
    assert posted, "recovered was logged before the card was posted"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("announcements poll")]
    failed = [line for line in lines if "failed" in line]
    assert failed and "every 1s" not in failed[0] and "3s" in failed[0], failed
    recovered = lines.index("announcements poll recovered")
    assert lines[recovered + 1] == "announcements poll: 1 message(s) posted", lines
