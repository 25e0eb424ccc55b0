"""The approver's day as ``approvals-bot serve`` runs it: reminders, escalation, quiet hours, digest.

One real process with the notifier on, SQLite, the emulators and the settings an operator writes
(short intervals). Its wall clock starts a little before 08:00 (``tests/wall_clock.py``), the end of
the quiet hours and the digest time, so the test sees a reminder held through quiet hours and posted
after them, the escalation, and one digest, without waiting for the real clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.commerce.models import ApprovalKind
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage
from bot.settings import Settings
from tests.cli_process import free_port
from tests.conftest import APPROVALS_CHANNEL, APPROVER
from tests.replicas import Replica
from tests.waiting import stays, wait_for
from tests.wall_clock import ProcessWallClock

EIGHT_O_CLOCK = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
ESCALATION_CHANNEL = "C_ESCALATE"
REMIND_AFTER_SECONDS = 3


def _texts(messages: list[StoredMessage]) -> list[str]:
    return [f"{m.text or ''} {json.dumps(m.blocks or [])}" for m in messages]


def test_serve_holds_reminders_through_quiet_hours_then_reminds_escalates_and_posts_one_digest(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    settings = make_settings(
        notifier_enabled=True,
        port=free_port(),
        approvals_poll_seconds=0.5,
        approvals_followup_poll_seconds=0.5,
        approvals_remind_after=f"{REMIND_AFTER_SECONDS}s",
        approvals_escalate_after=f"{REMIND_AFTER_SECONDS + 1}s",
        approvals_escalation_channel=ESCALATION_CHANNEL,
        approvals_escalate_to=APPROVER,
        reminder_quiet_hours="20-08",
        tz="UTC",
        approvals_digest_at="08:00",
    )
    clock = ProcessWallClock(EIGHT_O_CLOCK - timedelta(seconds=40))
    clock.started()
    bot = Replica(settings, tmp_path / "serve", extra_env=clock.environment())
    try:
        bot.wait_until_listening()

        def card() -> list[StoredMessage]:
            return [m for m in slack.top_level_messages(APPROVALS_CHANNEL) if approval_id in _texts([m])[0]]

        (posted,) = wait_for(card, timeout=35, what="the approval's card")
        assert posted.ts is not None
        due = clock.now() + timedelta(seconds=REMIND_AFTER_SECONDS + 1)
        assert due < EIGHT_O_CLOCK - timedelta(seconds=2), f"the bot started too slowly ({clock.now()})"

        def reminders() -> list[StoredMessage]:
            replies = slack.thread_replies(APPROVALS_CHANNEL, posted.ts or "")
            return [m for m in replies if "Reminder" in (m.text or "")]

        def escalations() -> list[StoredMessage]:
            return slack.channel_messages(ESCALATION_CHANNEL)

        def digests() -> list[StoredMessage]:
            return [
                m for m in slack.top_level_messages(APPROVALS_CHANNEL) if "Approvals digest" in (m.text or "")
            ]

        # Due before 08:00, but inside the quiet hours: nothing is posted until they end.
        before_eight = clock.seconds_until(EIGHT_O_CLOCK - timedelta(seconds=0.5))
        nothing_yet = lambda: not reminders() and not escalations() and not digests()  # noqa: E731
        assert stays(nothing_yet, for_seconds=before_eight)

        (reminder,) = wait_for(reminders, timeout=20, what="the reminder after the quiet hours")
        assert clock.now() >= EIGHT_O_CLOCK
        assert approval_id in _texts([reminder])[0]
        (escalation,) = wait_for(escalations, timeout=20, what="the escalation")
        assert f"<@{APPROVER}>" in _texts([escalation])[0]
        assert "not been decided" in (escalation.text or "")
        wait_for(digests, timeout=20, what="the daily digest at 08:00")
        # Several rounds later: still one digest and one reminder.
        assert stays(lambda: len(digests()) == 1 and len(reminders()) == 1, for_seconds=3)
    finally:
        bot.stop()
