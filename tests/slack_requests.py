"""Sends real, signed Slack requests (slash commands, button clicks, modal submissions) to a running bot.

Bodies are form-encoded exactly like Slack's: slash commands as plain fields, interactivity as
``payload=<json>``. Signatures follow Slack's v0 scheme: ``v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

EVENTS_PATH = "/slack/events"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
NO_RESPONSE_URL = "http://127.0.0.1:9/hooks/unused"
"""Used when a test passes no response_url: nothing listens there (connection refused)."""

_counter = itertools.count(1)


class SlackRequestSender:
    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        team_id: str = "T_EMU",
        team_domain: str = "emulated",
        api_app_id: str = "A_APPROVALS",
        timeout: float = 10.0,
        path: str = EVENTS_PATH,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.timeout = timeout
        self.path = path
        # Like Slack: a kept-alive connection with NODELAY (else Nagle + delayed ACK add ~40 ms a request).
        self._http = httpx.Client(
            timeout=timeout,
            transport=httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]),
        )

    @property
    def url(self) -> str:
        return f"{self.base_url}{self.path}"

    # -- signing -------------------------------------------------------------------------------------
    def sign(self, body: bytes | str, timestamp: int | str) -> str:
        """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
        raw = body.encode() if isinstance(body, str) else body
        base = b"v0:" + str(timestamp).encode() + b":" + raw
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return f"v0={digest}"

    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        return {
            "Content-Type": FORM_CONTENT_TYPE,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": self.sign(body, ts),
        }

    # -- sending -------------------------------------------------------------------------------------
    def raw(self, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """POSTs ``body`` with exactly these headers (plus a form Content-Type unless one is given)."""
        sent = dict(headers)
        if not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = FORM_CONTENT_TYPE
        return self._http.post(self.url, content=body, headers=sent)

    def send_form(self, fields: Mapping[str, str]) -> httpx.Response:
        body = urlencode(fields).encode()
        return self.raw(body, self.signed_headers(body))

    def send_payload(self, payload: Mapping[str, Any]) -> httpx.Response:
        return self.send_form({"payload": json.dumps(payload)})

    # -- request kinds ---------------------------------------------------------------------------------
    @staticmethod
    def new_trigger_id() -> str:
        return f"{int(time.time())}.{next(_counter)}.emulatedtrigger"

    def _user(self, user_id: str, user_name: str | None) -> dict[str, str]:
        name = user_name or user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": self.team_domain}

    def slash_command(
        self,
        command: str,
        text: str,
        user_id: str,
        channel_id: str = "C_APPROVALS",
        response_url: str | None = None,
        trigger_id: str | None = None,
        *,
        user_name: str | None = None,
        channel_name: str = "approvals",
    ) -> httpx.Response:
        return self.send_form(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "team_domain": self.team_domain,
                "channel_id": channel_id,
                "channel_name": channel_name,
                "user_id": user_id,
                "user_name": user_name or user_id.lower(),
                "command": command,
                "text": text,
                "api_app_id": self.api_app_id,
                "is_enterprise_install": "false",
                "response_url": response_url or NO_RESPONSE_URL,
                "trigger_id": trigger_id or self.new_trigger_id(),
            }
        )

    def block_action(
        self,
        action_id: str,
        value: str,
        user_id: str,
        channel_id: str = "C_APPROVALS",
        message_ts: str = "1700000000.000100",
        response_url: str | None = None,
        trigger_id: str | None = None,
        *,
        block_id: str | None = None,
        user_name: str | None = None,
        is_ephemeral: bool = False,
        message_blocks: list[dict[str, Any]] | None = None,
    ) -> httpx.Response:
        """A click on a button (``type: block_actions``) in a message in ``channel_id``."""
        action_ts = f"{time.time():.6f}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": trigger_id or self.new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "approvals"},
            "message": {
                "type": "message",
                "ts": message_ts,
                "user": "UBOT",
                "bot_id": "B_EMU",
                "text": "",
                "blocks": message_blocks or [],
            },
            "state": {"values": {}},
            "response_url": response_url or NO_RESPONSE_URL,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id or f"approval_actions:{value}",
                    "text": {"type": "plain_text", "text": action_id, "emoji": True},
                    "value": value,
                    "action_ts": action_ts,
                }
            ],
        }
        if is_ephemeral:
            payload.pop("message")
        return self.send_payload(payload)

    def event(self, event: Mapping[str, Any]) -> httpx.Response:
        """An Events API callback (JSON, signed like every request) carrying ``event``."""
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "api_app_id": self.api_app_id,
                "event": dict(event),
                "type": "event_callback",
                "event_id": f"Ev{next(_counter):08d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": self.team_id, "user_id": "UBOT", "is_bot": True}],
            }
        ).encode()
        headers = self.signed_headers(body)
        headers["Content-Type"] = "application/json"
        return self.raw(body, headers)

    def app_home_opened(self, user_id: str, *, tab: str = "home") -> httpx.Response:
        """``user_id`` opens the app's Home tab."""
        return self.event(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": f"D{user_id}",
                "tab": tab,
                "event_ts": f"{time.time():.6f}",
            }
        )

    def home_action(
        self,
        action_id: str,
        value: str,
        user_id: str,
        *,
        view_id: str = "VHOME0001",
        block_id: str | None = None,
        state: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """A click on a button in the user's App Home (a view: no channel, no message, no response_url);
        ``state`` is the view's ``state.values`` (e.g. ticked checkboxes)."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, None),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": self.new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": {
                "id": view_id,
                "type": "home",
                "blocks": [],
                "private_metadata": "",
                "callback_id": "",
                "state": {"values": state or {}},
            },
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id or f"home:{action_id}:{value}",
                    "text": {"type": "plain_text", "text": action_id, "emoji": True},
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.send_payload(payload)

    def modal_action(
        self, action_id: str, value: str, user_id: str, view: Mapping[str, Any], *, block_id: str = "b"
    ) -> httpx.Response:
        """A click on a button in an open modal ``view`` (as the emulator holds it): Slack sends the
        whole view back, with no channel, message or response_url."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, None),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self.new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": dict(view),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": action_id, "emoji": True},
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.send_payload(payload)

    def view_submission(
        self,
        callback_id: str,
        private_metadata: str,
        values: dict[str, dict[str, dict[str, Any]]],
        user_id: str,
        *,
        user_name: str | None = None,
        view_id: str = "V00000001",
    ) -> httpx.Response:
        """A modal submission; ``values`` is ``view.state.values`` ({block_id: {action_id: {...}}})."""
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": self.new_trigger_id(),
            "view": {
                "id": view_id,
                "team_id": self.team_id,
                "type": "modal",
                "blocks": [],
                "private_metadata": private_metadata,
                "callback_id": callback_id,
                "state": {"values": values},
                "hash": "1700000000.emulated",
                "title": {"type": "plain_text", "text": "Modal", "emoji": True},
                "clear_on_close": False,
                "notify_on_close": False,
                "close": None,
                "submit": None,
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": self.api_app_id,
                "external_id": "",
                "app_installed_team_id": self.team_id,
                "bot_id": "B_EMU",
            },
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self.send_payload(payload)
