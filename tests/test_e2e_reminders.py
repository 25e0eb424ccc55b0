"""End to end: reminders in the card's thread at the right times, once each; quiet hours; escalation.

Time is a ``ManualClock`` the bot's store and pollers read; nothing sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.commerce.models import ApprovalKind, Decision
from bot.notifier.failures import NotifierRoundIncomplete
from bot.sandbox.base import Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage
from bot.services.decisions import DecisionRequest
from tests.bot_runner import RunningBot
from tests.clock import ManualClock
from tests.conftest import APPROVALS_CHANNEL, APPROVER, APPROVER_GROUP, SECOND_APPROVER
from tests.test_e2e_approvals import post_card

MONDAY_10_UTC = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ESCALATION_CHANNEL = "C_ESCALATE"
APPROVER_MENTIONS = f"<@{APPROVER}> <@{SECOND_APPROVER}> <!subteam^{APPROVER_GROUP}>"


def reminders(slack: SlackEmulator, ts: str) -> list[StoredMessage]:
    return [m for m in slack.thread_replies(APPROVALS_CHANNEL, ts) if (m.text or "").startswith("Reminder")]


def test_reminders_come_after_4h_then_daily_at_most_3_times_once_each_across_a_restart(
    database_url: str,
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    clock = ManualClock(MONDAY_10_UTC)
    first = start_bot(database_url=database_url, clock=clock)
    approval_id, ts = post_card(first, slack, commerce)

    clock.advance(timedelta(hours=3, minutes=59))
    assert first.poll("reminders") == 0
    clock.advance(timedelta(minutes=1))
    assert first.poll("reminders") == 1
    assert first.poll("reminders") == 0

    (reminder,) = reminders(slack, ts)
    blocks = json.dumps(reminder.blocks)
    assert APPROVER_MENTIONS in blocks
    assert f"approval `{approval_id}` has waited 4 h" in blocks
    assert "Reminder 1 of 3" in blocks

    first.stop()
    second = start_bot(database_url=database_url, clock=clock)
    replica = start_bot(database_url=database_url, clock=clock)
    assert second.poll("reminders") + replica.poll("reminders") == 0  # nothing repeated after the restart

    clock.advance(timedelta(hours=23, minutes=59))
    assert second.poll("reminders") == 0
    clock.advance(timedelta(minutes=1))
    assert second.poll("reminders") + replica.poll("reminders") == 1  # one of the two replicas posts it
    clock.advance(timedelta(hours=24))
    assert replica.poll("reminders") + second.poll("reminders") == 1
    clock.advance(timedelta(days=5))
    assert second.poll("reminders") + replica.poll("reminders") == 0  # at most APPROVALS_REMIND_MAX

    texts = [json.dumps(m.blocks) for m in reminders(slack, ts)]
    assert len(texts) == 3
    assert all(f"Reminder {n} of 3" in text for n, text in enumerate(texts, start=1))


def test_quiet_hours_hold_a_reminder_until_morning_in_the_configured_time_zone(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    # 16:00 UTC is 17:00 in Amsterdam (winter time): the reminder falls due at 21:00, inside 20-08.
    clock = ManualClock(datetime(2026, 1, 12, 16, 0, tzinfo=UTC))
    bot = start_bot(clock=clock, reminder_quiet_hours="20-08", tz="Europe/Amsterdam")
    _, ts = post_card(bot, slack, commerce)

    clock.advance(timedelta(hours=4))  # 21:00 local
    assert bot.poll("reminders") == 0
    clock.set(datetime(2026, 1, 13, 6, 59, tzinfo=UTC))  # 07:59 local
    assert bot.poll("reminders") == 0
    assert reminders(slack, ts) == []

    clock.set(datetime(2026, 1, 13, 7, 0, tzinfo=UTC))  # 08:00 local
    assert bot.poll("reminders") == 1
    assert len(reminders(slack, ts)) == 1


def test_an_approval_still_pending_after_the_escalation_time_is_escalated_once(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    clock = ManualClock(MONDAY_10_UTC)
    bot = start_bot(
        clock=clock,
        approvals_remind_max=0,
        approvals_escalate_after="2d",
        approvals_escalation_channel=ESCALATION_CHANNEL,
        approvals_escalate_to="U_MANAGER,S_LEADS",
    )
    approval_id, ts = post_card(bot, slack, commerce)

    clock.advance(timedelta(days=2) - timedelta(minutes=1))
    assert bot.poll("reminders") == 0
    clock.advance(timedelta(minutes=1))
    assert bot.poll("reminders") == 1
    clock.advance(timedelta(days=3))
    assert bot.poll("reminders") == 0

    (message,) = slack.top_level_messages(ESCALATION_CHANNEL)
    blocks = json.dumps(message.blocks)
    assert "<@U_MANAGER> <!subteam^S_LEADS>" in blocks
    assert "1 approval has not been decided" in blocks
    permalink = f"https://emulated.slack.com/archives/{APPROVALS_CHANNEL}/p{ts.replace('.', '')}"
    assert f"<{permalink}|approval {approval_id}>" in blocks


def test_a_decided_approval_gets_no_reminder(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    clock = ManualClock(MONDAY_10_UTC)
    bot = start_bot(clock=clock)
    approval_id, ts = post_card(bot, slack, commerce)
    assert bot.call(
        bot.runtime.decisions.decide(DecisionRequest(approval_id, Decision.APPROVE, APPROVER, "j", None))
    ).ok

    clock.advance(timedelta(hours=5))
    assert bot.poll("reminders") == 0
    assert reminders(slack, ts) == []


def test_many_reminders_due_at_once_make_one_message_in_the_channel(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    clock = ManualClock(MONDAY_10_UTC)
    bot = start_bot(clock=clock, approvals_backlog_limit=2)
    for _ in range(2):
        commerce.add_approval(ApprovalKind.ORDER)
    assert bot.poll_approvals() == 2
    commerce.add_approval(ApprovalKind.BUYER)
    assert bot.poll_approvals() == 1
    cards_before = len(slack.top_level_messages(APPROVALS_CHANNEL))

    clock.advance(timedelta(hours=4))
    assert bot.poll("reminders") == 1
    assert bot.poll("reminders") == 0

    messages = slack.top_level_messages(APPROVALS_CHANNEL)
    assert len(messages) == cards_before + 1
    blocks = json.dumps(messages[-1].blocks)
    assert "3 approvals* are still waiting" in blocks
    assert APPROVER_MENTIONS in blocks
    assert all(not slack.thread_replies(APPROVALS_CHANNEL, m.ts) for m in messages)
    assert 'approvals_followups_total{kind="reminder_summary"} 1.0' in bot.runtime.metrics.render().decode()


def test_a_reminder_whose_answer_was_lost_is_not_posted_again_and_a_refused_one_is(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    """Only a definite "not posted" puts a reminder's claim back: one whose answer was lost (Slack
    may have stored it) counts as sent, for a reminder missed is redone tomorrow, a doubled one is
    noise in the approvers' thread."""
    clock = ManualClock(MONDAY_10_UTC)
    bot = start_bot(clock=clock)
    _, ts = post_card(bot, slack, commerce)

    clock.advance(timedelta(hours=4))
    slack.fail_next(
        1,
        Response(body={"ok": False, "error": "internal_error"}),
        when=lambda r: r.path.endswith("chat.postMessage"),
    )
    with pytest.raises(NotifierRoundIncomplete):
        bot.poll("reminders")
    assert reminders(slack, ts) == []
    assert bot.poll("reminders") == 1  # Slack said no: posted at the next check
    assert len(reminders(slack, ts)) == 1

    clock.advance(timedelta(hours=24))
    slack.lose_answer_next("chat.postMessage", mode="drop")
    assert bot.poll("reminders") == 1  # counted as sent: no failure to retry
    assert len(reminders(slack, ts)) == 2  # Slack stored it; the answer was lost
    assert bot.poll("reminders") == 0  # and it is not posted a second time
    assert len(reminders(slack, ts)) == 2
