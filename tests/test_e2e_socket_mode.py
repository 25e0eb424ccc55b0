"""End to end over a real WebSocket: the bot in Socket Mode against the Socket Mode server emulator.

apps.connections.open (app-level token) -> WebSocket -> hello -> envelopes acked by envelope_id ->
the same listeners as over HTTP (response_url answers, Commerce POST, card update) -> reconnects
when the socket drops; the HTTP health endpoints keep answering.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError

from bot.commerce.models import ApprovalKind
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.sandbox.slack_socket_mode import SocketModeEmulator
from bot.server import BotServer
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from bot.version import USER_AGENT
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER
from tests.waiting import stays, wait_for

APP_TOKEN = "xapp-1-test"
TEAM_ID = "T_EMU"
APP_ID = "A_APPROVALS"
CONNECTIONS_OPEN = "/api/apps.connections.open"


@pytest.fixture
def socket_mode(slack: SlackEmulator) -> Iterator[SocketModeEmulator]:
    server = SocketModeEmulator(app_id=APP_ID)
    server.start()
    slack.attach_socket_mode(server, app_token=APP_TOKEN)
    yield server
    server.stop()


@pytest.fixture
def socket_bot(socket_mode: SocketModeEmulator, start_bot: Callable[..., RunningBot]) -> RunningBot:
    """The bot in Socket Mode (set up after, so torn down before, the Socket Mode server)."""
    return start_bot(slack_app_token=APP_TOKEN)


def slash_command(text: str, response_url: str, user_id: str = APPROVER) -> dict[str, Any]:
    """A slash command's form fields, as Socket Mode delivers them (JSON)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "emulated",
        "channel_id": APPROVALS_CHANNEL,
        "channel_name": "approvals",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": "/approvals",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.1.emulatedtrigger",
    }


def button_click(
    action_id: str, value: str, user_id: str, message_ts: str, response_url: str
) -> dict[str, Any]:
    """A ``block_actions`` payload: ``user_id`` clicked a button on the card at ``message_ts``."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": APPROVALS_CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": f"{int(time.time())}.2.emulatedtrigger",
        "team": {"id": TEAM_ID, "domain": "emulated"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": APPROVALS_CHANNEL, "name": "approvals"},
        "message": {
            "type": "message",
            "ts": message_ts,
            "user": "UBOT",
            "bot_id": "B_EMU",
            "text": "",
            "blocks": [],
        },
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"approval_actions:{value}",
                "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def ask_for_help(socket_mode: SocketModeEmulator, slack: SlackEmulator) -> tuple[str, dict[str, Any]]:
    """Sends ``/approvals help`` over the socket; returns the envelope id and the answer, which comes
    in the ack's payload (help needs no round trip)."""
    response_url = slack.new_response_url()
    envelope_id = socket_mode.send_envelope("slash_commands", slash_command("help", response_url))
    answer: dict[str, Any] = socket_mode.wait_for_ack(envelope_id)["payload"]
    return envelope_id, answer


def text_of(answer: dict[str, Any]) -> str:
    return json.dumps(answer.get("blocks")) + str(answer.get("text"))


def test_connects_with_the_app_token_and_gets_hello(
    socket_bot: RunningBot, socket_mode: SocketModeEmulator, slack: SlackEmulator
) -> None:
    connection = socket_mode.wait_for_connections(1)

    opens = slack.requests_to("POST", CONNECTIONS_OPEN)
    assert len(opens) == 1
    assert opens[0].headers["authorization"] == f"Bearer {APP_TOKEN}"
    [opened] = slack.call_log("apps.connections.open")
    assert opened.response["ok"] is True
    assert f"ticket={connection.ticket}" in opened.response["url"]
    assert socket_mode.rejected_tickets == []
    assert len(socket_mode.connections) == 1
    # Both the Web API call and the WebSocket's handshake name the bot's version.
    assert opens[0].headers["user-agent"].startswith(f"{USER_AGENT} ")
    assert connection.user_agent.startswith(f"{USER_AGENT} ")
    # The bot token is still what the Web API calls use; only apps.connections.open takes the app token.
    assert all(
        r.headers.get("authorization") != f"Bearer {APP_TOKEN}"
        for r in slack.requests
        if r.path != CONNECTIONS_OPEN
    )


def test_slash_command_envelope_is_acked_with_the_answer_in_its_payload(
    socket_bot: RunningBot, socket_mode: SocketModeEmulator, slack: SlackEmulator
) -> None:
    socket_mode.wait_for_connections(1)

    envelope_id, answer = ask_for_help(socket_mode, slack)

    assert socket_mode.wait_for_ack(envelope_id)["envelope_id"] == envelope_id
    assert answer["response_type"] == "ephemeral"
    assert "/approvals list" in text_of(answer)
    assert len(socket_mode.acks(envelope_id)) == 1
    assert slack.calls("chat.postEphemeral") == []


def test_approve_click_envelope_is_acked_and_decided_once(
    socket_bot: RunningBot, socket_mode: SocketModeEmulator, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    socket_mode.wait_for_connections(1)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    assert socket_bot.poll_approvals() == 1
    card = next(
        c
        for c in slack.calls("chat.postMessage")
        if c.get("channel") == APPROVALS_CHANNEL and approval_id in json.dumps(c.get("blocks"))
    )
    ts = slack.message_ts(card)

    envelope_id = socket_mode.send_envelope(
        "interactive", button_click(APPROVE_ACTION_ID, approval_id, APPROVER, ts, slack.new_response_url())
    )

    assert socket_mode.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    path = f"/approval_status/{approval_id}"
    wait_for(lambda: commerce.requests_to("POST", path), what="the Commerce POST")
    update = wait_for(
        lambda: [c for c in slack.calls("chat.update") if c.get("ts") == ts], what="the card update"
    )[-1]
    assert stays(lambda: len(commerce.requests_to("POST", path)) == 1, for_seconds=0.3)
    assert commerce.requests_to("POST", path)[0].json()["aprv_act"] == "1"
    assert commerce.approval(approval_id)["status"] == "1"
    assert update["channel"] == APPROVALS_CHANNEL
    assert f"<@{APPROVER}>" in json.dumps(update.get("blocks"))
    assert len(socket_mode.acks(envelope_id)) == 1


@pytest.mark.parametrize("reason", [None, "refresh_requested"], ids=["dropped", "disconnect-message"])
def test_reconnects_after_the_socket_drops_and_keeps_handling_envelopes(
    socket_bot: RunningBot, socket_mode: SocketModeEmulator, slack: SlackEmulator, reason: str | None
) -> None:
    first = socket_mode.wait_for_connections(1)
    envelope_id, _ = ask_for_help(socket_mode, slack)
    socket_mode.wait_for_ack(envelope_id)

    socket_mode.disconnect(reason)

    second = socket_mode.wait_for_connections(2)
    assert second.ticket != first.ticket
    wait_for(lambda: first.closed, what="the first connection to be over")
    assert len(slack.requests_to("POST", CONNECTIONS_OPEN)) == 2
    assert len(socket_mode.connections) == 2
    assert socket_mode.rejected_tickets == []
    envelope_id, answer = ask_for_help(socket_mode, slack)
    assert socket_mode.wait_for_ack(envelope_id)["envelope_id"] == envelope_id
    assert "/approvals list" in text_of(answer)


def test_http_health_still_answers_in_socket_mode(
    socket_bot: RunningBot, socket_mode: SocketModeEmulator
) -> None:
    socket_mode.wait_for_connections(1)

    response = httpx.get(f"{socket_bot.url}/healthz", timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert httpx.get(f"{socket_bot.url}/readyz", timeout=5).status_code == 200


def test_a_wrong_app_token_fails_start_up_instead_of_retrying_forever(
    socket_mode: SocketModeEmulator, slack: SlackEmulator, make_settings: Callable[..., Settings]
) -> None:
    server = BotServer(make_settings(slack_app_token="xapp-1-wrong"), host="127.0.0.1")

    async def start_with_a_deadline() -> None:
        # Cancels this very task (not a wrapper task, which stop()'s drain would wait for) if it hangs.
        current = asyncio.current_task()
        assert current is not None
        asyncio.get_running_loop().call_later(30, current.cancel)
        await server.start()

    with pytest.raises(SlackApiError) as raised:
        asyncio.run(start_with_a_deadline())

    assert raised.value.response["error"] == "invalid_auth"
    assert len(slack.requests_to("POST", CONNECTIONS_OPEN)) == 1
    assert socket_mode.connections == []
