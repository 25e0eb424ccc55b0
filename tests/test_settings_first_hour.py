"""Settings a user gets wrong in the first hour are refused by ``check`` with one plain line each."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.cli_process import EXECUTABLE, environment
from tests.conftest import BOT_TOKEN
from tests.env_files import docker_env_file


def run_check(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXECUTABLE, "check"], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("APPROVALS_CHANNEL", "#approvals", "a channel id"),
        ("PROCESS_STATUS_CHANNEL", "general", "a channel id"),
        ("APPROVALS_ESCALATION_CHANNEL", "#escalations", "a channel id"),
        ("APPROVERS", "U_APPROVER,@jane", "user id"),
        ("VIEWERS", "jane@example.com", "user id"),
        ("APPROVALS_ESCALATE_TO", "@here", "user id"),
        ("SLACK_BOT_TOKEN", "xoxp-1234-5678-abcd", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-1234-5678-abcd", "xapp-"),
        ("COMMERCE_BASE_URL", "https://http://commerce.internal/wcs/resources", "one scheme"),
    ],
)
def test_a_wrong_kind_of_value_fails_check_with_a_plain_line(
    name: str, value: str, says: str, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    result = run_check(environment(make_settings(), **{name: value}), tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith(f"{name}:")]
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert "Value error" not in lines[0] and "Traceback" not in result.stderr
    assert "xoxp-1234" not in result.stderr and "xoxb-1234" not in result.stderr


def test_values_quoted_in_a_docker_env_file_are_read_without_their_quotes(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    env_file = f"SLACK_BOT_TOKEN=\"{BOT_TOKEN}\"\nAPPROVALS_CHANNEL='C_APPROVALS'\n"
    env = environment(make_settings(), **docker_env_file(env_file))
    assert env["SLACK_BOT_TOKEN"] == f'"{BOT_TOKEN}"'  # docker keeps the quotes
    result = run_check(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS slack" in result.stdout


def test_check_on_a_new_database_prints_its_pass_lines_without_migration_lines(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    result = run_check(environment(make_settings()), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "migration" not in result.stderr and "schema version" not in result.stderr, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()].count("PASS database") == 1


def test_check_names_the_cause_of_invalid_auth(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(slack_bot_token="xoxb-a-token-slack-never-issued")
    result = run_check(environment(settings), tmp_path)
    assert result.returncode == 1
    slack_line = next(line for line in result.stdout.splitlines() if line.startswith("FAIL slack"))
    assert "invalid_auth" in slack_line and "SLACK_BOT_TOKEN" in slack_line and "revoked" in slack_line
