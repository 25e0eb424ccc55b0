"""Requests to the bot's ``/slack/events`` as Slack sends them: form-encoded or JSON, signed with the
app's signing secret (``v0``: HMAC-SHA256 of ``v0:{timestamp}:{body}``)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

EVENTS_PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"


class SignedRequests:
    def __init__(self, bot_url: str, signing_secret: str, *, team_id: str, bot_user_id: str) -> None:
        self._http = httpx.AsyncClient(base_url=bot_url, timeout=15)
        self._verifier = SignatureVerifier(signing_secret)
        self._team_id = team_id
        self._bot_user_id = bot_user_id
        self._event_numbers = itertools.count(1)

    async def close(self) -> None:
        await self._http.aclose()

    async def form(self, fields: Mapping[str, str]) -> httpx.Response:
        """A slash command's fields."""
        return await self._post(urlencode(fields).encode(), FORM)

    async def payload(self, payload: Mapping[str, Any]) -> httpx.Response:
        """An interaction (``block_actions``, ``view_submission``) as ``payload=<json>``."""
        return await self._post(urlencode({"payload": json.dumps(payload)}).encode(), FORM)

    async def event(self, event: Mapping[str, Any], api_app_id: str) -> httpx.Response:
        """An Events API callback carrying ``event``."""
        callback = {
            "token": "legacy-verification-token",
            "team_id": self._team_id,
            "api_app_id": api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": f"Ev{next(self._event_numbers):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self._team_id, "user_id": self._bot_user_id, "is_bot": True}],
        }
        return await self._post(json.dumps(callback).encode(), "application/json")

    async def _post(self, body: bytes, content_type: str) -> httpx.Response:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self._verifier.generate_signature(timestamp=timestamp, body=body) or "",
        }
        return await self._http.post(EVENTS_PATH, content=body, headers=headers)
