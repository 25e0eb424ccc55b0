"""A system calling the bot's ingest API over loopback, as a cron job or a sync service would."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.bot_runner import RunningBot
from tests.conftest import PROCESS_CHANNEL

API_TOKEN = "ingest-token-7c1d-0123456789abcdef0123"
OTHER_API_TOKEN = "ingest-token-second-91aa-456789abcdef"
READ_ONLY_TOKEN = "ingest-token-reader-5e5e-0123456789ab"
WATCHES = "/api/v1/process-status/watches"
BATCHES = "/api/v1/process-status/batches"
FOLLOWS = "/api/v1/process-status/follows"
SYNC_CHANNELS = (PROCESS_CHANNEL, "C_OPS", "C_ELSEWHERE", "C_OTHER", "C_GONE")
"""The channels the tests' main caller (``sync``) may post in."""


def callers(*entries: dict[str, Any]) -> str:
    """``API_TOKENS`` as JSON."""
    return json.dumps(list(entries))


SYNC = {"name": "sync", "token": API_TOKEN, "channels": list(SYNC_CHANNELS)}
OTHER = {"name": "other", "token": OTHER_API_TOKEN}
READER = {"name": "reader", "token": READ_ONLY_TOKEN, "scope": "read"}
API_CALLERS = callers(SYNC)
"""The usual test setting: one caller, ``sync``, that may post in ``SYNC_CHANNELS``."""


def api_client(bot: RunningBot, token: str | None = API_TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=bot.url, headers=headers, timeout=30)


def post_watches(bot: RunningBot, body: dict[str, Any], token: str | None = API_TOKEN) -> httpx.Response:
    with api_client(bot, token) as client:
        return client.post(WATCHES, json=body)


def get_batch(bot: RunningBot, batch_id: str, token: str = API_TOKEN) -> dict[str, Any]:
    with api_client(bot, token) as client:
        response = client.get(f"{BATCHES}/{batch_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
