"""Outgoing Slack messages: paced per channel (Slack allows about one message per second per channel),
with every secret masked."""

from __future__ import annotations

import asyncio
import time

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.outbound.blocks.types import Block
from bot.slack.outbound.masking import Mask, masked, no_mask


class SlackPoster:
    def __init__(
        self, client: AsyncWebClient, *, min_interval_seconds: float = 1.0, mask: Mask = no_mask
    ) -> None:
        self._client = client
        self._mask = mask
        self._min_interval = min_interval_seconds
        self._next_slot: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def _wait_for_slot(self, channel: str) -> None:
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(channel, 0.0))
            self._next_slot[channel] = slot + self._min_interval
        delay = slot - now
        if delay > 0:
            await asyncio.sleep(delay)

    async def post(
        self, channel: str, text: str, blocks: list[Block], *, thread_ts: str | None = None
    ) -> str:
        """Posts a message (a reply in ``thread_ts``'s thread when given) and returns its ``ts``."""
        await self._wait_for_slot(channel)
        response = await self._client.chat_postMessage(
            channel=channel, text=self._mask(text), blocks=masked(blocks, self._mask), thread_ts=thread_ts
        )
        return str(response["ts"])

    async def permalink(self, channel: str, ts: str) -> str:
        """A link to the message (``chat.getPermalink``; not paced: it posts nothing)."""
        response = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
        return str(response["permalink"])

    async def update(self, channel: str, ts: str, text: str, blocks: list[Block]) -> None:
        await self._client.chat_update(
            channel=channel, ts=ts, text=self._mask(text), blocks=masked(blocks, self._mask)
        )

    async def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list[Block] | None = None
    ) -> None:
        await self._client.chat_postEphemeral(
            channel=channel, user=user, text=self._mask(text), blocks=masked(blocks or [], self._mask)
        )
