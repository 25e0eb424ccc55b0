"""End to end: a reminder's Remind me in 1 h / Tomorrow morning buttons: that approver's next reminder
comes then, once, within quiet hours' rules, and counts against APPROVALS_REMIND_MAX."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage
from bot.slack.outbound.blocks.ids import SNOOZE_HOUR_ACTION_ID, SNOOZE_MORNING_ACTION_ID
from tests.bot_runner import RunningBot
from tests.clock import ManualClock
from tests.conftest import APPROVALS_CHANNEL, APPROVER, OUTSIDER, SECOND_APPROVER, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import post_card
from tests.waiting import wait_for

MONDAY_10_UTC = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def reminders(slack: SlackEmulator, ts: str) -> list[StoredMessage]:
    return [m for m in slack.thread_replies(APPROVALS_CHANNEL, ts) if (m.text or "").startswith("Reminder")]


def snooze(
    sender: SlackRequestSender,
    slack: SlackEmulator,
    action_id: str,
    approval_id: str,
    user: str,
    reminder: StoredMessage,
) -> str:
    url = slack.new_response_url()
    sender.block_action(
        action_id, approval_id, user, APPROVALS_CHANNEL, reminder.ts, url, block_id=f"snooze:{approval_id}"
    )
    answer = wait_for(lambda: slack.responses(url), what="the snooze answer")[0]
    return str(answer["text"])


def test_remind_me_in_an_hour_reminds_only_that_approver_once_and_counts_against_the_maximum(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    clock = ManualClock(MONDAY_10_UTC)
    bot = start_bot(clock=clock)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)
    clock.advance(timedelta(hours=4))
    assert bot.poll("reminders") == 1
    (first,) = reminders(slack, ts)
    assert SNOOZE_HOUR_ACTION_ID in json.dumps(first.blocks)

    assert "in an hour" in snooze(sender, slack, SNOOZE_HOUR_ACTION_ID, approval_id, APPROVER, first)
    assert "Only this approval's approvers" in snooze(
        sender, slack, SNOOZE_HOUR_ACTION_ID, approval_id, OUTSIDER, first
    )

    clock.advance(timedelta(minutes=59))
    assert bot.poll("reminders") == 0
    clock.advance(timedelta(minutes=1))
    assert bot.poll("reminders") == 1
    assert bot.poll("reminders") == 0  # once
    snoozed = json.dumps(reminders(slack, ts)[-1].blocks)
    assert f"<@{APPROVER}>" in snoozed and f"<@{SECOND_APPROVER}>" not in snoozed
    assert "Reminder 2 of 3" in snoozed

    clock.advance(timedelta(hours=23))  # the regular second reminder's time: already counted
    assert bot.poll("reminders") == 0
    clock.advance(timedelta(hours=24))
    assert bot.poll("reminders") == 1
    clock.advance(timedelta(days=3))
    assert bot.poll("reminders") == 0
    assert len(reminders(slack, ts)) == 3  # APPROVALS_REMIND_MAX
    audit = [(e.action, e.outcome, e.detail) for e in bot.call(bot.runtime.store.audit_entries(approval_id))]
    assert ("snooze", "ok", "hour") in audit and ("snooze", "refused", "hour") in audit


def test_tomorrow_morning_waits_for_the_end_of_quiet_hours(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    clock = ManualClock(MONDAY_10_UTC)
    bot = start_bot(clock=clock, reminder_quiet_hours="08-10")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)
    clock.advance(timedelta(hours=4))
    assert bot.poll("reminders") == 1
    (first,) = reminders(slack, ts)

    assert "tomorrow morning" in snooze(
        sender, slack, SNOOZE_MORNING_ACTION_ID, approval_id, SECOND_APPROVER, first
    )

    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))  # 09:00 tomorrow: inside the quiet hours
    assert bot.poll("reminders") == 0
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    assert bot.poll("reminders") == 1
    snoozed = json.dumps(reminders(slack, ts)[-1].blocks)
    assert f"<@{SECOND_APPROVER}>" in snoozed and f"<@{APPROVER}>" not in snoozed
