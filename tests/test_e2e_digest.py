"""End to end: the daily digest, posted once a day across replicas, and ``/approvals digest`` on demand."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.commerce.models import Decision
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage
from bot.services.decisions import DecisionRequest
from tests.bot_runner import RunningBot
from tests.clock import ManualClock
from tests.conftest import APPROVALS_CHANNEL, APPROVER, OUTSIDER, SECOND_APPROVER, SIGNING_SECRET
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import post_card

# Amsterdam is UTC+1 in winter: 08:00 UTC is 09:00 there.
MONDAY_NOON_LOCAL = datetime(2026, 1, 12, 11, 0, tzinfo=UTC)
TUESDAY_0859_LOCAL = datetime(2026, 1, 13, 7, 59, tzinfo=UTC)
TUESDAY_0900_LOCAL = datetime(2026, 1, 13, 8, 0, tzinfo=UTC)
DIGEST = {"approvals_digest_at": "09:00", "approvals_digest_tz": "Europe/Amsterdam"}


def digests(slack: SlackEmulator) -> list[StoredMessage]:
    return [
        m
        for m in slack.top_level_messages(APPROVALS_CHANNEL)
        if (m.text or "").startswith("Approvals digest")
    ]


def a_day_of_work(bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, bol: BolEmulator) -> str:
    """Monday: three cards, one approved, one rejected, one left waiting; a watched process fails.
    Returns the waiting card's ts."""
    approved, _ = post_card(bot, slack, commerce)
    rejected, _ = post_card(bot, slack, commerce)
    _, waiting_ts = post_card(bot, slack, commerce)
    decide = bot.runtime.decisions.decide
    assert bot.call(decide(DecisionRequest(approved, Decision.APPROVE, APPROVER, "jane", None))).ok
    assert bot.call(decide(DecisionRequest(rejected, Decision.REJECT, SECOND_APPROVER, "joe", "no"))).ok
    process_id = bol.add_process()
    assert bot.call(bot.runtime.store.add_watch(process_id, APPROVALS_CHANNEL, OUTSIDER))
    bol.set_status(process_id, "FAILURE", "offer rejected")
    assert bot.poll_processes() == 1
    return waiting_ts


def test_the_digest_is_posted_once_a_day_at_its_time_across_two_replicas(
    database_url: str,
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    bol: BolEmulator,
) -> None:
    clock = ManualClock(MONDAY_NOON_LOCAL)
    first = start_bot(database_url=database_url, clock=clock, **DIGEST)
    second = start_bot(database_url=database_url, clock=clock, **DIGEST)
    waiting_ts = a_day_of_work(first, slack, commerce, bol)
    assert first.poll("digest") + second.poll("digest") == 1  # Monday's, after 09:00: caught up once
    slack_messages_before = len(digests(slack))

    clock.set(TUESDAY_0859_LOCAL)
    assert first.poll("digest") + second.poll("digest") == 0
    clock.set(TUESDAY_0900_LOCAL)
    assert second.poll("digest") + first.poll("digest") == 1
    clock.advance(timedelta(hours=10))
    assert first.poll("digest") + second.poll("digest") == 0
    first.stop()
    restarted = start_bot(database_url=database_url, clock=clock, **DIGEST)
    assert restarted.poll("digest") == 0

    assert len(digests(slack)) == slack_messages_before + 1
    tuesday = json.dumps(digests(slack)[-1].blocks, ensure_ascii=False)
    assert "Approvals digest for 2026-01-13" in tuesday
    assert "1 approval is waiting" in tuesday
    permalink = f"https://emulated.slack.com/archives/{APPROVALS_CHANNEL}/p{waiting_ts.replace('.', '')}"
    assert permalink in tuesday
    assert f"<@{APPROVER}>: 1 approved" in tuesday
    assert f"<@{SECOND_APPROVER}>: 1 rejected" in tuesday
    assert "ended in FAILURE" in tuesday
    assert f"watched by <@{OUTSIDER}>" in tuesday

    clock.advance(timedelta(days=1))
    assert restarted.poll("digest") + second.poll("digest") == 1
    wednesday = json.dumps(digests(slack)[-1].blocks, ensure_ascii=False)
    assert "Decided yesterday:* nothing in Slack" in wednesday
    assert "Process failures in the last day:* none" in wednesday


def test_approvals_digest_shows_the_digest_to_the_asker_only(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    bol: BolEmulator,
) -> None:
    clock = ManualClock(MONDAY_NOON_LOCAL)
    bot = start_bot(clock=clock)  # no APPROVALS_DIGEST_AT: the command works anyway
    a_day_of_work(bot, slack, commerce, bol)
    clock.set(TUESDAY_0900_LOCAL)
    posts_before = len(slack.calls("chat.postMessage"))

    answer = run_command(
        SlackRequestSender(bot.url, SIGNING_SECRET),
        slack,
        "/approvals",
        "digest",
        user=OUTSIDER,
        channel="C_ANY",
    )

    assert answer["response_type"] == "ephemeral"
    text = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "1 approval is waiting" in text
    assert f"<@{APPROVER}>: 1 approved" in text
    assert len(slack.calls("chat.postMessage")) == posts_before
