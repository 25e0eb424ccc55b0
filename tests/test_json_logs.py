"""``LOG_FORMAT=json``: one JSON object per line, with the ids an event is about, secrets masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.commerce.models import ApprovalKind
from bot.logging_setup import NOISY_LOGGERS, configure_logging, log_context
from bot.sandbox.base import Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import API_PREFIX, SlackEmulator
from bot.settings import Settings
from tests.cli_process import free_port
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.replicas import Replica
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``configure_logging`` replaces the root handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    library_levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, library_level in library_levels.items():
        logging.getLogger(name).setLevel(library_level)


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed; a line that is not one JSON object fails the test."""
    entries = []
    for line in text.splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


def test_json_lines_carry_context_fields_and_mask_secrets(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", ["s3cret-password"], log_format="json", static_fields={"replica": "replica-7"})
    log = logging.getLogger("bot.example")
    with log_context(approval_id="10003", slack_user="U1"):
        log.warning("login with %s failed\nsecond line", "s3cret-password")
        with log_context(slack_user="U2"):
            log.info("token xoxb-123-abc seen", extra={"process_status_id": "42"})
    try:
        raise ValueError("s3cret-password in an exception")
    except ValueError:
        log.exception("plain")

    first, second, third = json_lines(capsys.readouterr().err)
    assert first["level"] == "WARNING"
    assert first["logger"] == "bot.example"
    assert first["message"] == "login with *** failed\nsecond line"
    assert first["approval_id"] == "10003"
    assert first["slack_user"] == "U1"
    assert first["replica"] == "replica-7"
    assert first["timestamp"].endswith("+00:00")
    assert second["message"] == "token *** seen"
    assert (second["approval_id"], second["slack_user"], second["process_status_id"]) == ("10003", "U2", "42")
    assert "approval_id" not in third
    assert "ValueError: *** in an exception" in third["exception"]
    assert "s3cret-password" not in json.dumps([first, second, third])


def test_text_stays_the_default_format(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    with log_context(approval_id="10003"):
        logging.getLogger("bot.example").info("hello")
    line = capsys.readouterr().err.strip()
    assert line.endswith("INFO bot.example: hello")


def test_the_running_bot_logs_json_with_approval_and_user(
    make_settings: Callable[..., Settings],
    commerce: CommerceEmulator,
    slack: SlackEmulator,
    tmp_path: Path,
) -> None:
    failed_card = commerce.add_approval(ApprovalKind.ORDER)
    slack.fail_next(
        1,
        Response(body={"ok": False, "error": "channel_not_found"}),
        when=lambda request: request.path == f"{API_PREFIX}chat.postMessage",
    )
    settings = make_settings(
        port=free_port(),
        replica_id="replica-json",
        log_format="json",
        notifier_enabled=True,
        approvals_poll_seconds=0.2,
        process_status_poll_seconds=60,
    )
    replica = Replica(settings, tmp_path)
    try:
        replica.wait_until_listening()
        wait_for(lambda: "could not post the card" in replica.log(), what="the failed post")
        decided = commerce.add_approval(ApprovalKind.BUYER)
        sender = SlackRequestSender(replica.url, SIGNING_SECRET)
        response_url = slack.new_response_url()
        sender.slash_command(
            "/approvals",
            f"approve {decided} fine",
            user_id=APPROVER,
            channel_id=APPROVALS_CHANNEL,
            response_url=response_url,
        )
        wait_for(lambda: slack.responses(response_url), what="the answer to the command")
    finally:
        exit_code = replica.stop()
    assert exit_code == 0, replica.log()

    entries = json_lines(replica.log())
    for entry in entries:
        assert {"timestamp", "level", "logger", "message"} <= entry.keys(), entry
        assert entry["replica"] == "replica-json"
    failed = [e for e in entries if e["message"].startswith("could not post the card")]
    assert failed[0]["level"] == "WARNING"
    assert failed[0]["approval_id"] == failed_card
    approved = [e for e in entries if e["message"].startswith(f"approval {decided} approved")]
    assert approved[0]["approval_id"] == decided
    assert approved[0]["slack_user"] == APPROVER
    for secret in (settings.slack_bot_token, settings.commerce_logon_password, settings.bol_client_secret):
        assert secret.get_secret_value() not in replica.log()
