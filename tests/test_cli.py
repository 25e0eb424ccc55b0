"""The real ``approvals-bot`` executable: settings errors, ``check``, and ``serve`` as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.sandbox.commerce import CommerceEmulator, errors_body
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from tests.cli_process import EXECUTABLE, environment, free_port
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for


def test_missing_settings_name_each_variable_and_exit_2(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "SLACK_BOT_TOKEN": "xoxb-1", "PORT": "not-a-port"}
    result = subprocess.run(
        [EXECUTABLE, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    for name in ("SLACK_SIGNING_SECRET", "PORT"):
        assert name in result.stderr
    assert "deploy/.env" in result.stderr and "Kubernetes" in result.stderr
    assert "Traceback" not in result.stderr
    assert "xoxb-1" not in result.stderr
    # Commerce and bol.com are each optional: once the rest is valid, the lines say to set one or both.
    env = {"PATH": os.environ["PATH"], "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}
    result = subprocess.run(
        [EXECUTABLE, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "COMMERCE_BASE_URL" in result.stderr and "BOL_CLIENT_SECRET" in result.stderr


def test_check_passes_against_reachable_services(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    result = subprocess.run(
        [EXECUTABLE, "check"],
        env=environment(make_settings()),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # One line per check, in the order they finished.
    assert sorted(line.split(":")[0] for line in lines) == [
        "PASS bol",
        "PASS commerce",
        "PASS database",
        "PASS slack",
        "WARN approver-links",  # the test's approvers are not linked
    ]


def test_check_fails_with_a_clear_line_per_broken_dependency(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(commerce_logon_password="wrong-password", bol_client_secret="wrong-secret")
    result = subprocess.run(
        [EXECUTABLE, "check"],
        env=environment(settings),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "PASS slack" in result.stdout
    assert "FAIL commerce" in result.stdout
    assert "FAIL bol" in result.stdout
    assert "wrong-password" not in result.stdout + result.stderr
    assert "wrong-secret" not in result.stdout + result.stderr


def test_check_masks_a_secret_that_a_refusal_echoes(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    echo = f"Logon failed for password '{commerce.password}'"
    commerce.fail_next(
        5,
        errors_body(401, "_ERR_AUTHENTICATION_ERROR", echo, "2030"),
        when=lambda r: "loginidentity" in r.path,
    )
    result = subprocess.run(
        [EXECUTABLE, "check"],
        env=environment(make_settings()),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    commerce_line = next(line for line in result.stdout.splitlines() if "commerce" in line)
    assert commerce_line.startswith("FAIL commerce")
    assert "Logon failed for password '***'" in commerce_line
    assert commerce.password not in result.stdout + result.stderr


def test_serve_runs_answers_slack_and_stops_cleanly_without_logging_secrets(
    make_settings: Callable[..., Settings], slack: SlackEmulator, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(port=port, notifier_enabled=True, approvals_poll_seconds=0.2)
    # The log goes to a file: a pipe nobody reads fills up and blocks the bot's logging.
    log_path = tmp_path / "bot.log"
    log_file = log_path.open("w")
    process = subprocess.Popen(
        [EXECUTABLE, "serve"],
        env=environment(settings, LOG_LEVEL="DEBUG"),
        cwd=tmp_path,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=30, what="the bot to listen")
        sender = SlackRequestSender(base, SIGNING_SECRET)
        answer = run_command(sender, slack, "/approvals", "help", user=APPROVER, channel=APPROVALS_CHANNEL)
        assert "How to use /approvals" in answer["text"]
        time.sleep(0.5)  # let a few notifier rounds log
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log_file.close()
    output = log_path.read_text()
    assert process.returncode == 0, output
    assert "listening" in output
    for secret in (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.commerce_logon_password,
        settings.bol_client_secret,
    ):
        assert secret.get_secret_value() not in output
    assert "Traceback" not in output


def test_unknown_subcommand_is_a_usage_error() -> None:
    result = subprocess.run([EXECUTABLE, "frobnicate"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "usage" in result.stderr
