"""What an operator reads in the logs: one line per event, no tracebacks for expected failures."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bot_runner import RunningBot
from tests.conftest import BOT_TOKEN
from tests.waiting import wait_for


def test_starting_with_the_token_in_the_environment_logs_no_bolt_warning(
    start_bot: Callable[..., RunningBot], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The container passes SLACK_BOT_TOKEN in the environment, where Bolt looks for it too.
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    with caplog.at_level(logging.INFO):
        start_bot().stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    assert any("listening on" in r.getMessage() for r in caplog.records)  # the bot did start


def test_a_failing_poll_is_one_warning_line_without_a_traceback(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    commerce.fail_next(
        3, Response(status=500, body={"errors": [{"errorKey": "_ERR_GENERIC", "errorMessage": "boom"}]})
    )
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    with caplog.at_level(logging.INFO, logger="bot"):
        start_bot(notifier_enabled=True, approvals_poll_seconds=0.2, process_status_poll_seconds=60)
        wait_for(
            lambda: [c for c in slack.calls("chat.postMessage") if approval_id in json.dumps(c["blocks"])],
            what="the card once Commerce recovers",
        )
        wait_for(
            lambda: any(r.getMessage() == "approvals poll recovered" for r in caplog.records),
            what="the end of the round that recovered",
        )

    failed = [r for r in caplog.records if "approvals poll failed" in r.getMessage()]
    assert failed, "the failed rounds were not logged"
    for record in failed:
        assert record.levelno == logging.WARNING
        assert not record.exc_info
        assert "\n" not in record.getMessage()
        assert "Commerce answered 500: boom" in record.getMessage()
