"""The Slack emulator answers slack_sdk like Slack does, and SlackRequestSender signs like Slack does."""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.sandbox.base import EmulatorServer, RecordedRequest, Response
from bot.sandbox.slack import DEFAULT_BOT_TOKEN, SlackEmulator
from bot.slack.outbound.blocks import approval_card, reject_modal
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
    REJECT_MODAL_CALLBACK_ID,
)
from tests.slack_requests import SlackRequestSender
from tests.test_blocks import approval
from tests.waiting import wait_for

SECRET = "emulator-test-signing-secret"


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    server = SlackEmulator()
    server.start()
    server.usergroups = {"S123": ["U1", "U2"]}
    yield server
    server.stop()


@pytest.fixture
def client(emulator: SlackEmulator) -> WebClient:
    return WebClient(token=DEFAULT_BOT_TOKEN, base_url=emulator.api_url, timeout=5)


# -- Web API -----------------------------------------------------------------------------------------


def test_auth_test(client: WebClient) -> None:
    response = client.auth_test()
    assert response["ok"] is True
    assert response["user_id"] == "UBOT"
    assert response["bot_id"] and response["team"]


def test_wrong_or_missing_token_and_unknown_method(emulator: SlackEmulator) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=emulator.api_url)
    with pytest.raises(SlackApiError) as error:
        wrong.auth_test()
    assert error.value.response["error"] == "invalid_auth"
    missing = httpx.post(f"{emulator.api_url}auth.test").json()
    assert missing == {"ok": False, "error": "not_authed"}
    with pytest.raises(SlackApiError) as unknown:
        WebClient(token=DEFAULT_BOT_TOKEN, base_url=emulator.api_url).api_call("chat.frobnicate")
    assert unknown.value.response["error"] == "unknown_method"


def test_post_message_then_update_keeps_history(emulator: SlackEmulator, client: WebClient) -> None:
    text, blocks = approval_card(approval())
    first = client.chat_postMessage(channel="C_APPROVALS", text=text, blocks=blocks)
    second = client.chat_postMessage(channel="C_APPROVALS", text="second")
    assert first["ok"] and first["channel"] == "C_APPROVALS"
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])

    (call, _) = emulator.calls("chat.postMessage")
    assert call["channel"] == "C_APPROVALS"
    assert call["blocks"] == blocks  # JSON body: blocks arrive as objects
    assert emulator.message_ts(call) == first["ts"]

    updated = client.chat_update(channel="C_APPROVALS", ts=first["ts"], text="decided", blocks=[])
    assert updated["ok"] and updated["ts"] == first["ts"]
    stored = emulator.messages[("C_APPROVALS", first["ts"])]
    assert stored.text == "decided" and stored.blocks == []
    assert [v["text"] for v in stored.history] == [text, "decided"]
    assert emulator.calls("chat.update")[0]["ts"] == first["ts"]
    assert [m.text for m in emulator.channel_messages("C_APPROVALS")] == ["decided", "second"]


def test_form_encoded_calls_and_token_param_are_understood(emulator: SlackEmulator) -> None:
    response = httpx.post(
        f"{emulator.api_url}chat.postMessage",
        data={
            "token": DEFAULT_BOT_TOKEN,
            "channel": "C1",
            "text": "hi",
            "blocks": json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]),
        },
    ).json()
    assert response["ok"] is True
    call = emulator.calls("chat.postMessage")[-1]
    assert call["blocks"][0]["type"] == "section"  # form-encoded JSON fields are decoded
    assert "token" not in call


def test_channel_and_message_errors(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as missing_channel:
        client.chat_postMessage(channel="C_MISSING", text="x")
    assert missing_channel.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as missing_message:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert missing_message.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as no_text, pytest.warns(UserWarning):
        client.chat_postMessage(channel="C1")
    assert no_text.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as too_many_blocks:
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "divider"}] * 51)
    assert too_many_blocks.value.response["error"] == "invalid_blocks"


def test_post_ephemeral(emulator: SlackEmulator, client: WebClient) -> None:
    response = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert response["ok"] and response["message_ts"]
    assert emulator.calls("chat.postEphemeral")[0]["user"] == "U1"
    assert emulator.ephemerals[0]["text"] == "only you"
    assert emulator.messages == {}


def test_views_open_needs_a_trigger_id(emulator: SlackEmulator, client: WebClient) -> None:
    view = reject_modal("10003", channel="C1", message_ts="1700000000.000100")
    opened = client.views_open(trigger_id="123.456.abc", view=view)
    assert opened["ok"] and opened["view"]["callback_id"] == REJECT_MODAL_CALLBACK_ID
    assert emulator.calls("views.open")[0]["view"]["private_metadata"] == view["private_metadata"]
    with pytest.raises(SlackApiError) as missing:
        client.api_call("views.open", json={"view": view})
    assert missing.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as expired:
        client.views_open(trigger_id="expired.1", view=view)
    assert expired.value.response["error"] == "expired_trigger_id"


def test_usergroups_and_users(emulator: SlackEmulator, client: WebClient) -> None:
    assert client.usergroups_users_list(usergroup="S123")["users"] == ["U1", "U2"]
    assert emulator.calls("usergroups.users.list") == [{"usergroup": "S123"}]
    with pytest.raises(SlackApiError) as unknown:
        client.usergroups_users_list(usergroup="S_NOPE")
    assert unknown.value.response["error"] == "no_such_subteam"
    assert client.users_info(user="U1")["user"]["id"] == "U1"
    emulator.users["U2"] = {"id": "U2", "name": "jane", "real_name": "Jane Smith"}
    assert client.users_info(user="U2")["user"]["real_name"] == "Jane Smith"


def test_rate_limit_then_retry_succeeds(emulator: SlackEmulator) -> None:
    client = WebClient(
        token=DEFAULT_BOT_TOKEN,
        base_url=emulator.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    emulator.rate_limit_next("chat.postMessage", 1, retry_after=1)
    started = time.monotonic()
    response = client.chat_postMessage(channel="C1", text="after the limit")
    assert response["ok"]
    assert time.monotonic() - started >= 1.0
    assert len(emulator.requests_to("POST", "chat.postMessage")) == 2
    assert len(emulator.calls("chat.postMessage")) == 1  # the 429 is not a call

    emulator.rate_limit_next("chat.postMessage", 1, retry_after=7)
    no_retry = WebClient(token=DEFAULT_BOT_TOKEN, base_url=emulator.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as limited:
        no_retry.chat_postMessage(channel="C1", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    headers = {k.lower(): v for k, v in limited.value.response.headers.items()}
    assert headers["retry-after"] in ("7", ["7"])


def test_response_urls_capture_what_is_posted(emulator: SlackEmulator) -> None:
    first = emulator.new_response_url()
    second = emulator.new_response_url()
    assert first != second and first.startswith(emulator.url)
    result = WebhookClient(first).send_dict({"text": "hello", "response_type": "ephemeral"})
    assert result.status_code == 200
    assert emulator.responses(first) == [{"text": "hello", "response_type": "ephemeral"}]
    assert emulator.responses(second) == []
    assert emulator.responses(int(first.rsplit("/", 1)[-1])) == emulator.responses(first)
    assert WebhookClient(f"{emulator.url}/hooks/response/999").send(text="x").status_code == 404


# -- request signing -------------------------------------------------------------------------------


def test_sign_matches_slack_sdk_signature_verifier() -> None:
    sender = SlackRequestSender("http://127.0.0.1:1", SECRET)
    body = b"command=%2Fapprovals&text=list+orders"
    now = int(time.time())
    signature = sender.sign(body, now)
    assert signature.startswith("v0=") and len(signature) == 3 + 64
    verifier = SignatureVerifier(SECRET)
    assert signature == verifier.generate_signature(timestamp=str(now), body=body)
    assert verifier.is_valid(body=body, timestamp=str(now), signature=signature)
    assert verifier.is_valid_request(body, sender.signed_headers(body, now))
    assert not verifier.is_valid(body=body + b"x", timestamp=str(now), signature=signature)
    assert not verifier.is_valid(body=body, timestamp=str(now - 600), signature=sender.sign(body, now - 600))
    assert not SignatureVerifier("other-secret").is_valid(body=body, timestamp=str(now), signature=signature)


class BoltReceiver(EmulatorServer):
    """A real (sync) Bolt app behind HTTP: proves what SlackRequestSender sends is what Bolt expects."""

    def __init__(self, emulator: SlackEmulator) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.app = App(
            client=WebClient(token=DEFAULT_BOT_TOKEN, base_url=emulator.api_url),
            signing_secret=SECRET,
            process_before_response=True,
        )
        app = self.app

        @app.command("/approvals")
        def on_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
            ack()
            self.seen.append(("command", command))
            respond(text=f"you said {command['text']}", response_type="ephemeral")

        @app.action(APPROVE_ACTION_ID)
        def on_approve(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
            ack()
            self.seen.append(("action", body))
            respond(text=f"approving {action['value']}", response_type="ephemeral")

        @app.action(REJECT_ACTION_ID)
        def on_reject(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
            ack()
            self.seen.append(("action", body))
            container = body["container"]
            client.views_open(
                trigger_id=body["trigger_id"],
                view=reject_modal(
                    action["value"], channel=container["channel_id"], message_ts=container["message_ts"]
                ),
            )

        @app.view(REJECT_MODAL_CALLBACK_ID)
        def on_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
            self.seen.append(("view", body))
            reason = view["state"]["values"][REASON_BLOCK_ID][REASON_ACTION_ID]["value"]
            if len(reason.strip()) < 3:
                ack(response_action="errors", errors={REASON_BLOCK_ID: "too short"})
            else:
                ack()

    def handle(self, request: RecordedRequest) -> Response:
        headers: dict[str, str | Sequence[str]] = {k: [v] for k, v in request.headers.items()}
        bolt_response = self.app.dispatch(BoltRequest(body=request.body.decode(), headers=headers))
        content_type = (bolt_response.headers.get("content-type") or ["text/plain"])[0]
        return Response(status=bolt_response.status, body=bolt_response.body, content_type=content_type)


@pytest.fixture
def bolt(emulator: SlackEmulator) -> Iterator[BoltReceiver]:
    receiver = BoltReceiver(emulator)
    receiver.start()
    yield receiver
    receiver.stop()


def test_signed_requests_reach_real_bolt_listeners(emulator: SlackEmulator, bolt: BoltReceiver) -> None:
    sender = SlackRequestSender(bolt.url, SECRET)

    url = emulator.new_response_url()
    assert (
        sender.slash_command("/approvals", "list orders", user_id="U1", response_url=url).status_code == 200
    )
    assert emulator.responses(url) == [{"text": "you said list orders", "response_type": "ephemeral"}]
    command = bolt.seen[-1][1]
    assert (command["user_id"], command["channel_id"], command["command"]) == (
        "U1",
        "C_APPROVALS",
        "/approvals",
    )

    url = emulator.new_response_url()
    clicked = sender.block_action(
        APPROVE_ACTION_ID,
        "10003",
        user_id="U2",
        channel_id="C9",
        message_ts="1700000000.000100",
        response_url=url,
    )
    assert clicked.status_code == 200
    assert emulator.responses(url)[0]["text"] == "approving 10003"
    body = bolt.seen[-1][1]
    assert body["type"] == "block_actions"
    assert body["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C9",
        "is_ephemeral": False,
    }
    assert body["user"]["id"] == "U2" and body["user"]["username"]
    assert body["channel"]["id"] == "C9" and body["message"]["ts"] == "1700000000.000100"

    assert sender.block_action(REJECT_ACTION_ID, "10003", user_id="U2", channel_id="C9").status_code == 200
    view = emulator.calls("views.open")[-1]["view"]
    rejected_too_short = sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "x"}}},
        user_id="U2",
    )
    assert rejected_too_short.status_code == 200
    assert rejected_too_short.json() == {
        "response_action": "errors",
        "errors": {REASON_BLOCK_ID: "too short"},
    }
    accepted = sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "over budget"}}},
        user_id="U2",
    )
    assert accepted.status_code == 200
    submitted = bolt.seen[-1][1]
    assert submitted["view"]["private_metadata"] == view["private_metadata"]


def test_forged_stale_and_unsigned_requests_are_refused_by_bolt(bolt: BoltReceiver) -> None:
    sender = SlackRequestSender(bolt.url, SECRET)
    body = b"command=%2Fapprovals&text=help&user_id=U1&channel_id=C1&team_id=T_EMU"
    now = int(time.time())
    forged = sender.raw(body, {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64})
    stale = sender.raw(
        body, {"X-Slack-Request-Timestamp": str(now - 600), "X-Slack-Signature": sender.sign(body, now - 600)}
    )
    unsigned = sender.raw(body, {})
    assert (forged.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    assert bolt.seen == []
    wrong_secret = SlackRequestSender(bolt.url, "not-the-secret").send_form(parse_qs_flat(body))
    assert wrong_secret.status_code == 401


def parse_qs_flat(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


# -- metadata, history and lost answers ----------------------------------------------------------------


def test_history_lists_top_level_messages_newest_first_in_pages_with_metadata_on_request(
    emulator: SlackEmulator, client: WebClient
) -> None:
    posted = [
        client.chat_postMessage(
            channel="C1", text=f"m{n}", metadata={"event_type": "note", "event_payload": {"n": str(n)}}
        )["ts"]
        for n in range(5)
    ]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=posted[0])
    client.chat_postMessage(channel="C2", text="elsewhere")

    first = client.conversations_history(channel="C1", limit=2, include_all_metadata=True)
    assert [m["ts"] for m in first["messages"]] == [posted[4], posted[3]]
    assert first["messages"][0]["metadata"] == {"event_type": "note", "event_payload": {"n": "4"}}
    assert first["has_more"] is True
    rest: list[str] = []
    cursor = first["response_metadata"]["next_cursor"]
    while cursor:
        page = client.conversations_history(channel="C1", limit=2, cursor=cursor)
        assert all("metadata" not in m for m in page["messages"])  # only with include_all_metadata
        rest += [m["ts"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
    assert rest == [posted[2], posted[1], posted[0]]  # the thread reply is not listed

    window = client.conversations_history(channel="C1", oldest=posted[1], latest=posted[3])
    assert [m["ts"] for m in window["messages"]] == [posted[2]]  # both ends exclusive by default
    inclusive = client.conversations_history(channel="C1", oldest=posted[1], latest=posted[3], inclusive=True)
    assert [m["ts"] for m in inclusive["messages"]] == [posted[3], posted[2], posted[1]]


def test_replies_list_the_parent_then_its_replies_oldest_first_in_pages_with_metadata_on_request(
    emulator: SlackEmulator, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel="C1", text="card")["ts"]
    replies = [
        client.chat_postMessage(
            channel="C1",
            text=f"r{n}",
            thread_ts=parent,
            metadata={"event_type": "note", "event_payload": {"n": str(n)}},
        )["ts"]
        for n in range(5)
    ]
    client.chat_postMessage(channel="C1", text="not in the thread")

    first = client.conversations_replies(channel="C1", ts=parent, limit=3, include_all_metadata=True)
    assert [m["ts"] for m in first["messages"]] == [parent, replies[0], replies[1]]
    assert first["messages"][1]["metadata"] == {"event_type": "note", "event_payload": {"n": "0"}}
    assert first["messages"][1]["thread_ts"] == parent
    assert first["has_more"] is True
    rest: list[str] = []
    cursor = first["response_metadata"]["next_cursor"]
    while cursor:
        page = client.conversations_replies(channel="C1", ts=parent, limit=2, cursor=cursor)
        assert all("metadata" not in m for m in page["messages"])  # only with include_all_metadata
        rest += [m["ts"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
    assert rest == replies[2:]  # the parent leads the first page only

    window = client.conversations_replies(channel="C1", ts=parent, oldest=replies[1], latest=replies[3])
    assert [m["ts"] for m in window["messages"]] == [parent, replies[2]]  # both ends exclusive by default
    inclusive = client.conversations_replies(
        channel="C1", ts=parent, oldest=replies[1], latest=replies[3], inclusive=True
    )
    assert [m["ts"] for m in inclusive["messages"]] == [parent, *replies[1:4]]
    with pytest.raises(SlackApiError) as missing:
        client.conversations_replies(channel="C1", ts="1.000001")
    assert missing.value.response["error"] == "thread_not_found"


def test_metadata_must_name_an_event_type_and_a_payload(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="x", metadata={"event_type": "note"})
    assert error.value.response["error"] == "invalid_metadata_schema"


@pytest.mark.parametrize("mode", ["hang", "drop"])
def test_a_lost_answer_stores_the_message_and_answers_nothing(emulator: SlackEmulator, mode: str) -> None:
    emulator.lose_answer_next("chat.postMessage", mode=mode)
    client = WebClient(token=DEFAULT_BOT_TOKEN, base_url=emulator.api_url, timeout=1, retry_handlers=[])
    with pytest.raises(OSError):  # a read timeout, or the connection closed
        client.chat_postMessage(channel="C1", text="stored")
    assert [m.text for m in emulator.top_level_messages("C1")] == ["stored"]
    emulator.release_held()
    wait_for(lambda: emulator.held == 0, what="the held answer to end")
    assert client.chat_postMessage(channel="C1", text="answered")["ok"] is True


def test_a_client_that_goes_away_mid_request_prints_no_traceback(
    emulator: SlackEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    # A killed bot process resets its connections: the emulator must take that as a normal end.
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(
            b'POST /api/chat.postMessage HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"chan'
        )
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
    wait_for(lambda: emulator.connections_dropped == 1, what="the emulator to see the reset")
    assert "Traceback" not in capfd.readouterr().err
