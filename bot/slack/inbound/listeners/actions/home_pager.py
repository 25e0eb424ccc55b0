"""The Newer / More buttons of the App Home: publish the page their value names."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.slack.outbound.home import AppHome

MAX_HOME_PAGE = 10_000


class HomePagerListener:
    def __init__(self, home: AppHome) -> None:
        self._home = home

    async def on_page(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = str(action.get("value", ""))
        page = int(value) if value.isdigit() and 1 <= int(value) <= MAX_HOME_PAGE else 1
        await self._home.publish(str((body.get("user") or {}).get("id", "")), page=page)
