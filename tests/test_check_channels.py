"""``check`` asks Slack whether the bot is in every channel it will post in, and says how to fix it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from tests.cli_process import EXECUTABLE, environment
from tests.conftest import APPROVALS_CHANNEL, PROCESS_CHANNEL
from tests.routes_helpers import LARGE_CHANNEL

ESCALATION_CHANNEL = "C_ESCALATE"


def run_check(settings: Settings, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXECUTABLE, "check"], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def routes_file(tmp_path: Path) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(
        f"routes:\n  - name: large\n    channel: {LARGE_CHANNEL}\n"
        "    match:\n      min_total: {EUR: 1000}\n"
    )
    return path


def test_check_passes_when_the_bot_is_in_every_channel(
    make_settings: Callable[..., Settings], slack: SlackEmulator, tmp_path: Path
) -> None:
    settings = make_settings(
        approvals_routes_file=routes_file(tmp_path),
        approvals_escalate_after="2d",
        approvals_escalation_channel=ESCALATION_CHANNEL,
    )
    result = run_check(settings, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    asked = {call["channel"] for call in slack.calls("conversations.info")}
    assert asked == {APPROVALS_CHANNEL, PROCESS_CHANNEL, LARGE_CHANNEL, ESCALATION_CHANNEL}
    assert any(line.startswith("PASS slack") for line in result.stdout.splitlines())


def test_check_names_each_channel_the_bot_is_not_in_and_the_invite_to_type(
    make_settings: Callable[..., Settings], slack: SlackEmulator, tmp_path: Path
) -> None:
    slack.non_member_channels = {LARGE_CHANNEL, PROCESS_CHANNEL}
    slack.missing_channels = {ESCALATION_CHANNEL}
    settings = make_settings(
        approvals_routes_file=routes_file(tmp_path),
        approvals_escalate_after="2d",
        approvals_escalation_channel=ESCALATION_CHANNEL,
    )
    result = run_check(settings, tmp_path)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if line.startswith("FAIL slack"))
    assert f"#{LARGE_CHANNEL.lower()} ({LARGE_CHANNEL})" in line
    assert f"({PROCESS_CHANNEL})" in line and f"({APPROVALS_CHANNEL})" not in line
    assert "/invite @approvals-bot" in line
    assert ESCALATION_CHANNEL in line and "not found" in line
