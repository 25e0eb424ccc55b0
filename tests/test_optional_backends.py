"""Commerce and bol.com are each optional: without one, the other's features run and the off ones say so."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from tests.bot_runner import RunningBot
from tests.cli_process import EXECUTABLE, environment
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for

NO_BOL = {"bol_client_id": "", "bol_client_secret": ""}
NO_COMMERCE = {
    "commerce_base_url": "",
    "commerce_store_id": "",
    "commerce_logon_id": "",
    "commerce_logon_password": "",
    "approvals_channel": "",
    "approvers": "",
}


def run_check(settings: Settings, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXECUTABLE, "check"], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_check_without_bol_passes_and_says_process_status_is_off(
    make_settings: Callable[..., Settings], bol: BolEmulator, tmp_path: Path
) -> None:
    result = run_check(make_settings(**NO_BOL), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    off = [line for line in result.stdout.splitlines() if line.startswith("OFF bol")]
    assert len(off) == 1 and "/process-status" in off[0], result.stdout
    assert "PASS commerce" in result.stdout
    assert bol.requests == []


def test_check_without_commerce_passes_and_says_approvals_are_off(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    result = run_check(make_settings(**NO_COMMERCE), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    off = [line for line in result.stdout.splitlines() if line.startswith("OFF commerce")]
    assert len(off) == 1 and "/approvals" in off[0], result.stdout
    assert "PASS bol" in result.stdout
    assert commerce.requests == []


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ({"bol_client_secret": ""}, "BOL_CLIENT_SECRET"),
        ({"commerce_logon_password": ""}, "COMMERCE_LOGON_PASSWORD"),
        ({**NO_BOL, **NO_COMMERCE}, "settings"),
        ({"process_status_channel": ""}, "PROCESS_STATUS_CHANNEL"),
        ({"approvals_channel": ""}, "APPROVALS_CHANNEL"),
    ],
)
def test_a_half_configured_backend_is_refused_by_name(
    unset: dict[str, str], named: str, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    env = environment(make_settings(), **{key.upper(): value for key, value in unset.items()})
    result = subprocess.run(
        [EXECUTABLE, "check"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert any(line.strip().startswith(f"{named}:") for line in result.stderr.splitlines()), result.stderr


def test_without_bol_the_bot_posts_approval_cards_and_answers_process_status_plainly(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    bol: BolEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    with caplog.at_level(logging.INFO):
        bot = start_bot(notifier_enabled=True, approvals_poll_seconds=0.2, **NO_BOL)
    wait_for(
        lambda: [c for c in slack.calls("chat.postMessage") if approval_id in json.dumps(c["blocks"])],
        what="the approval card",
    )
    assert {p.name for p in bot.runtime.pollers}.isdisjoint(
        {"process_status", "entity_follows", "batch_cards"}
    )
    started = [
        r.getMessage() for r in caplog.records if "bol.com" in r.getMessage() and "off" in r.getMessage()
    ]
    assert len(started) == 1, [r.getMessage() for r in caplog.records]
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    answer = run_command(sender, slack, "/process-status", "1234", user=APPROVER, channel=APPROVALS_CHANNEL)
    assert "bol.com" in answer["text"] and "not set up" in answer["text"]
    assert bol.requests == []


def test_without_commerce_the_bot_answers_approvals_plainly_and_polls_bol(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        bot = start_bot(notifier_enabled=True, process_status_poll_seconds=0.2, **NO_COMMERCE)
    names = {p.name for p in bot.runtime.pollers}
    assert "process_status" in names and names.isdisjoint({"approvals", "announcements", "reminders"})
    started = [
        r.getMessage() for r in caplog.records if "Commerce" in r.getMessage() and "off" in r.getMessage()
    ]
    assert len(started) == 1, [r.getMessage() for r in caplog.records]
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    answer = run_command(sender, slack, "/approvals", "list", user=APPROVER, channel="C_PROCESSES")
    assert "Commerce" in answer["text"] and "not set up" in answer["text"]
    assert commerce.requests == []
