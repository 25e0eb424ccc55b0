"""The Slack route under hostile input: junk is refused before anything is parsed, without a traceback."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER
from tests.slack_requests import SlackRequestSender

DEEP_JSON = "[" * 200_000 + "]" * 200_000

JUNK_BODIES: dict[str, bytes] = {
    "payload not JSON": b"payload=notjson",
    "not UTF-8": b"\xff\xfe\xfd payload=\xc3\x28",
    "200k-deep JSON": b"payload=" + b"[" * 200_000,
    "JSON body 200k deep": DEEP_JSON.encode(),
    "payload a list": urlencode({"payload": "[1, 2]"}).encode(),
    "payload a string": urlencode({"payload": '"block_actions"'}).encode(),
    "JSON body a list": b"[1, 2]",
}


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records an operator would have to look at: ERROR and above, or anything with a traceback."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("body", JUNK_BODIES.values(), ids=JUNK_BODIES.keys())
def test_unsigned_junk_is_refused_with_401_and_no_traceback(
    bot: RunningBot, sender: SlackRequestSender, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    with caplog.at_level(logging.INFO):
        responses = [
            sender.raw(body, {}),
            sender.raw(body, {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64}),
            sender.raw(body, {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "x"}),
        ]
    assert [r.status_code for r in responses] == [401, 401, 401]
    assert problems(caplog) == []
    refused = [r for r in caplog.records if r.name.startswith("bot") and r.levelno == logging.WARNING]
    assert len(refused) == 3
    assert all("\n" not in r.getMessage() for r in refused)


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-1", "99999999999999999999999", "0x1F"], ids=repr)
def test_a_malformed_timestamp_is_401_even_when_signed_over(
    bot: RunningBot, sender: SlackRequestSender, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    body = b"command=%2Fapprovals&text=help"
    with caplog.at_level(logging.INFO):
        response = sender.raw(
            body, {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sender.sign(body, timestamp)}
        )
    assert response.status_code == 401
    assert problems(caplog) == []


@pytest.mark.parametrize("body", JUNK_BODIES.values(), ids=JUNK_BODIES.keys())
def test_signed_junk_is_400_with_one_warning_line(
    bot: RunningBot,
    sender: SlackRequestSender,
    slack: SlackEmulator,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    with caplog.at_level(logging.INFO):
        response = sender.raw(body, sender.signed_headers(body))
    assert response.status_code == 400
    assert problems(caplog) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()
    assert [r.path for r in slack.requests if r.path != "/api/auth.test"] == []  # auth.test: at start


def click(sender: SlackRequestSender, **changes: Any) -> dict[str, Any]:
    """A well-formed Approve click payload, with ``changes`` applied on top (``None`` removes a key)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": APPROVER, "username": "jane", "team_id": sender.team_id},
        "api_app_id": sender.api_app_id,
        "team": {"id": sender.team_id, "domain": sender.team_domain},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C_APPROVALS"},
        "channel": {"id": "C_APPROVALS"},
        "trigger_id": sender.new_trigger_id(),
        "response_url": "http://127.0.0.1:9/hooks/unused",
        "actions": [{"type": "button", "action_id": APPROVE_ACTION_ID, "value": "10001"}],
    }
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def submission(sender: SlackRequestSender, state: Any) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": APPROVER, "username": "jane", "team_id": sender.team_id},
        "team": {"id": sender.team_id, "domain": sender.team_domain},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "reject_modal",
            "private_metadata": "{}",
            "state": state,
        },
    }


def view_without(sender: SlackRequestSender, key: str, kind: str = "view_submission") -> dict[str, Any]:
    payload = {**submission(sender, {}), "type": kind}
    payload["view"] = {k: v for k, v in payload["view"].items() if k != key}
    return payload


def event(sender: SlackRequestSender, inner: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": sender.team_id, "event": inner, "event_id": "Ev1"}


MALFORMED_PAYLOADS: dict[str, Any] = {
    "actions a string": lambda s: click(s, actions="approval_approve"),
    "actions empty": lambda s: click(s, actions=[]),
    "an action not an object": lambda s: click(s, actions=["approval_approve"]),
    "action_id not a string": lambda s: click(s, actions=[{"action_id": 7, "value": "10001"}]),
    "no response_url on a message button": lambda s: click(s, response_url=None),
    "response_url not a string": lambda s: click(s, response_url={"url": "x"}),
    "user a string": lambda s: click(s, user=APPROVER),
    "no user": lambda s: click(s, user=None),
    "team a list": lambda s: click(s, team=["T_EMU"]),
    "type missing": lambda s: click(s, type=None),
    "view.state a list": lambda s: submission(s, []),
    "view.state.values a string": lambda s: submission(s, {"values": "x"}),
    "view a string": lambda s: {**submission(s, {}), "view": "V1"},
    "view has no type": lambda s: view_without(s, "type"),
    "closed view has no type": lambda s: view_without(s, "type", "view_closed"),
    "view type not text": lambda s: {**submission(s, {}), "view": {**submission(s, {})["view"], "type": 7}},
    "event has no type": lambda s: event(s, {"user": APPROVER}),
    "workflow step event has no callback_id": lambda s: event(s, {"type": "workflow_step_execute"}),
}


@pytest.mark.parametrize("make", MALFORMED_PAYLOADS.values(), ids=MALFORMED_PAYLOADS.keys())
def test_signed_payloads_of_the_wrong_shape_are_400_within_the_ack(
    bot: RunningBot,
    sender: SlackRequestSender,
    commerce: CommerceEmulator,
    caplog: pytest.LogCaptureFixture,
    make: Any,
) -> None:
    with caplog.at_level(logging.INFO):
        response = sender.send_payload(make(sender))
    assert response.status_code == 400
    assert "\n" not in response.text and "Traceback" not in response.text
    assert problems(caplog) == []
    assert commerce.requests_to("POST", "") == []


@pytest.mark.parametrize(
    "fields",
    [
        {"command": "/approvals", "text": "help"},  # no user_id, no response_url
        {"command": "/approvals", "text": "help", "user_id": "U1", "response_url": "", "team_id": "T_EMU"},
        {"text": "help", "user_id": "U1", "team_id": "T_EMU", "response_url": "https://hooks.slack.com/x"},
    ],
    ids=["no user or response_url", "empty response_url", "no command"],
)
def test_signed_slash_commands_missing_fields_are_400(
    bot: RunningBot, sender: SlackRequestSender, caplog: pytest.LogCaptureFixture, fields: dict[str, str]
) -> None:
    with caplog.at_level(logging.INFO):
        response = sender.send_form(fields)
    assert response.status_code == 400
    assert problems(caplog) == []


def test_a_well_formed_click_still_gets_its_ack(bot: RunningBot, sender: SlackRequestSender) -> None:
    response = sender.send_payload(click(sender))
    assert response.status_code == 200
    assert json.loads(response.text or "{}") is not None


def test_a_bad_signature_warning_names_the_signing_secret_once_not_per_request(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    wrongly_signed = SlackRequestSender(bot.url, "not-the-apps-signing-secret")
    with caplog.at_level(logging.INFO):
        statuses = [wrongly_signed.send_form({"command": "/approvals", "text": "help"}).status_code]
        statuses += [wrongly_signed.send_form({"command": "/approvals", "text": "list"}).status_code]
    assert statuses == [401, 401]
    warnings = [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "bot.web.routes"
    ]
    assert len(warnings) == 1, warnings
    assert "SLACK_SIGNING_SECRET" in warnings[0]
