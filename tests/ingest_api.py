"""A system calling the bot's ingest API over loopback, as a cron job or a sync service would."""

from __future__ import annotations

from typing import Any

import httpx

from tests.bot_runner import RunningBot

API_TOKEN = "ingest-token-7c1d"
OTHER_API_TOKEN = "ingest-token-second-91aa"
WATCHES = "/api/v1/process-status/watches"
BATCHES = "/api/v1/process-status/batches"


def api_client(bot: RunningBot, token: str | None = API_TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=bot.url, headers=headers, timeout=30)


def post_watches(bot: RunningBot, body: dict[str, Any], token: str | None = API_TOKEN) -> httpx.Response:
    with api_client(bot, token) as client:
        return client.post(WATCHES, json=body)


def get_batch(bot: RunningBot, batch_id: str) -> dict[str, Any]:
    with api_client(bot) as client:
        response = client.get(f"{BATCHES}/{batch_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
