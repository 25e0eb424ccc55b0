"""End to end: every decision is written in its card's thread; a backlog gets one summary, not a flood."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.commerce.models import ApprovalKind, Decision
from bot.notifier.failures import NotifierRoundIncomplete
from bot.sandbox.base import Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage
from bot.services.decisions import DecisionRequest
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
)
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import click, post_card, posted_cards
from tests.waiting import wait_for


def replies(slack: SlackEmulator, ts: str) -> list[StoredMessage]:
    return slack.thread_replies(APPROVALS_CHANNEL, ts)


def test_an_approval_from_the_card_is_written_in_the_cards_thread(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    (reply,) = wait_for(lambda: replies(slack, ts), what="the decision in the card's thread")
    assert reply.text == f"✅ Approved by <@{APPROVER}>"


def test_a_rejection_is_written_in_the_thread_with_its_reason(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts)
    opened = wait_for(lambda: slack.calls("views.open"), what="the reject modal")[0]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])

    sender.view_submission(
        view["callback_id"],
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "over budget <!here>"}}},
        user_id=APPROVER,
    )

    (reply,) = wait_for(lambda: replies(slack, ts), what="the decision in the card's thread")
    assert reply.text == f"❌ Rejected by <@{APPROVER}>: over budget &lt;!here&gt;"


def test_a_decision_by_slash_command_is_threaded_too(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)

    request = DecisionRequest(approval_id, Decision.APPROVE, APPROVER, "jane", "fine by me")
    assert bot.call(bot.runtime.decisions.decide(request)).ok

    (reply,) = wait_for(lambda: replies(slack, ts), what="the decision in the card's thread")
    assert reply.text == f"✅ Approved by <@{APPROVER}>: fine by me"


def test_500_pending_on_first_start_are_announced_by_one_summary_and_later_ones_get_cards(
    database_url: str,
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    ids = [commerce.add_approval(ApprovalKind.ORDER if i % 2 else ApprovalKind.BUYER) for i in range(500)]
    bot = start_bot(database_url=database_url)

    assert bot.poll_approvals() == 1

    (summary,) = posted_cards(slack)
    assert summary["text"] == "500 approvals are waiting for a decision"
    text = json.dumps(summary["blocks"], ensure_ascii=False)
    assert "500 approvals are waiting" in text
    assert "…and 490 more." in text
    assert "/approvals list" in text and "Home" in text
    assert "actions" not in [b["type"] for b in summary["blocks"]]  # no buttons: nothing to decide here

    assert bot.poll_approvals() == 0  # recorded as announced: nothing is posted again
    assert 'approvals_followups_total{kind="backlog_summary"} 1.0' in bot.runtime.metrics.render().decode()
    later = commerce.add_approval(ApprovalKind.ORDER)
    assert bot.poll_approvals() == 1
    assert len(posted_cards(slack)) == 2
    assert f'"value": "{later}"' in json.dumps(posted_cards(slack)[1]["blocks"])

    # A decision on an approval the summary announced goes in the summary's thread; the summary stays.
    summary_ts = slack.message_ts(summary)
    request = DecisionRequest(ids[0], Decision.APPROVE, APPROVER, "jane", None)
    assert bot.call(bot.runtime.decisions.decide(request)).ok
    (reply,) = wait_for(lambda: replies(slack, summary_ts), what="the decision in the summary's thread")
    assert reply.text == f"✅ Approved by <@{APPROVER}>"
    assert [c for c in slack.calls("chat.update") if c.get("ts") == summary_ts] == []


def test_a_backlog_at_the_limit_still_gets_a_card_each(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    for _ in range(3):
        commerce.add_approval(ApprovalKind.ORDER)
    bot = start_bot(approvals_backlog_limit=3)

    assert bot.poll_approvals() == 3
    assert len(posted_cards(slack)) == 3


def test_a_failed_summary_releases_its_claims_and_is_posted_next_round(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    for _ in range(5):
        commerce.add_approval(ApprovalKind.ORDER)
    bot = start_bot(approvals_backlog_limit=2)
    slack.fail_next(
        1,
        Response(status=500, body={"ok": False, "error": "internal_error"}),
        when=lambda r: r.path.endswith("chat.postMessage"),
    )
    with pytest.raises(NotifierRoundIncomplete):
        bot.poll_approvals()
    assert posted_cards(slack) == []

    assert bot.poll_approvals() == 1
    (summary,) = posted_cards(slack)
    assert summary["text"] == "5 approvals are waiting for a decision"
