"""The bot's HTTP surface: request signing, slash commands, health and metrics, resilience."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, OUTSIDER
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for


def approvals(
    sender: SlackRequestSender, slack: SlackEmulator, text: str, user: str = APPROVER
) -> dict[str, Any]:
    return run_command(sender, slack, "/approvals", text, user=user, channel=APPROVALS_CHANNEL)


def text_of(answer: dict[str, Any]) -> str:
    return json.dumps(answer.get("blocks")) + str(answer.get("text"))


def test_bad_signature_and_stale_timestamp_are_rejected_without_side_effects(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    commerce.add_approval(ApprovalKind.ORDER)
    body = urlencode(
        {
            "command": "/approvals",
            "text": "approve 10003",
            "user_id": APPROVER,
            "channel_id": APPROVALS_CHANNEL,
            "response_url": slack.new_response_url(),
            "team_id": "T1",
            "user_name": "jane",
        }
    ).encode()
    now = int(time.time())
    forged = sender.raw(body, {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64})
    stale_ts = now - 60 * 10
    stale = sender.raw(
        body, {"X-Slack-Request-Timestamp": str(stale_ts), "X-Slack-Signature": sender.sign(body, stale_ts)}
    )
    unsigned = sender.raw(body, {})

    assert (forged.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    time.sleep(0.3)
    assert commerce.requests_to("POST", "/approval_status/10003") == []
    assert [r.path for r in slack.requests if r.path != "/api/auth.test"] == []  # auth.test: at start


def test_help_and_malformed_commands_answer_with_help(
    bot: RunningBot, slack: SlackEmulator, sender: SlackRequestSender
) -> None:
    help_answer = approvals(sender, slack, "help")
    assert help_answer["response_type"] == "ephemeral"
    assert "/approvals list" in text_of(help_answer)
    for text, complaint in [("approve abc", "abc"), ("reject 10003", "reason"), ("frobnicate", "frobnicate")]:
        answer = approvals(sender, slack, text)
        assert answer["response_type"] == "ephemeral"
        assert complaint in text_of(answer)
        assert "/approvals list" in text_of(answer)


def test_list_and_show(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    order_id = commerce.add_approval(ApprovalKind.ORDER, first_name="Olga", last_name="Order")
    buyer_id = commerce.add_approval(ApprovalKind.BUYER, first_name="Bert", last_name="Buyer")

    listed = approvals(sender, slack, "list")
    assert order_id in text_of(listed) and buyer_id in text_of(listed)
    only_buyers = approvals(sender, slack, "list buyers")
    assert buyer_id in text_of(only_buyers) and order_id not in text_of(only_buyers)
    last_list = commerce.requests_to("GET", "/approval_status")[-1]
    assert last_list.q("q") == "buyerApprovals"
    assert last_list.q("status") == "0"

    shown = approvals(sender, slack, f"show {order_id}")
    assert order_id in text_of(shown)
    assert "approval_approve" in text_of(shown)  # an approver sees buttons on a pending approval
    shown_to_outsider = approvals(sender, slack, f"show {order_id}", user=OUTSIDER)
    assert "approval_approve" not in text_of(shown_to_outsider)
    missing = approvals(sender, slack, "show 99999")
    assert "99999" in text_of(missing) or "no approval" in text_of(missing)


def test_approve_and_reject_by_slash_command_update_the_card(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    first = commerce.add_approval(ApprovalKind.ORDER)
    second = commerce.add_approval(ApprovalKind.ORDER)
    bot.poll_approvals()

    approvals(sender, slack, f"approve {first} fine by me")
    approvals(sender, slack, f"reject {second} duplicate order")

    posts = {
        r.path.rsplit("/", 1)[-1]: r.json()
        for r in commerce.requests_to("POST", "")
        if "/approval_status/" in r.path
    }
    assert posts[first]["aprv_act"] == "1" and "fine by me" in posts[first]["comments"]
    assert posts[second]["aprv_act"] == "2" and "duplicate order" in posts[second]["comments"]
    assert len(slack.calls("chat.update")) == 2
    again = approvals(sender, slack, f"approve {first}")
    assert "already" in text_of(again)
    assert len([r for r in commerce.requests_to("POST", f"/approval_status/{first}")]) == 1


def test_commerce_down_gives_a_clear_ephemeral_error(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    commerce.fail_next(
        100, Response(status=503, body="<html>Service Unavailable</html>", content_type="text/html")
    )
    answer = approvals(sender, slack, "list")
    assert answer["response_type"] == "ephemeral"
    assert "Commerce" in text_of(answer)
    assert "Traceback" not in text_of(answer)


def test_notifier_loop_keeps_going_while_commerce_is_down(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    commerce.fail_next(
        3,
        Response(
            status=500,
            body={
                "errors": [{"errorKey": "_ERR_GENERIC", "errorMessage": "boom", "errorCode": "CWXFR0230E"}]
            },
        ),
    )
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    bot = start_bot(notifier_enabled=True, approvals_poll_seconds=0.2, process_status_poll_seconds=0.2)

    card = wait_for(
        lambda: [c for c in slack.calls("chat.postMessage") if approval_id in json.dumps(c.get("blocks"))],
        what="the card after Commerce recovers",
    )
    assert len(card) == 1
    metrics = httpx.get(f"{bot.url}/metrics").text
    assert (
        'notifier_polls_total{outcome="error",poller="approvals"}' in metrics
        or 'notifier_polls_total{poller="approvals",outcome="error"}' in metrics
    )


def test_health_readiness_and_metrics(bot: RunningBot) -> None:
    assert httpx.get(f"{bot.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    metrics = httpx.get(f"{bot.url}/metrics")
    assert metrics.status_code == 200
    assert "approvals_cards_posted_total" in metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")
