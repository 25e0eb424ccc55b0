"""Answers through a request's ``response_url``, over the bot's one shared HTTP session.

Bolt's own ``respond`` opens a new session (a TCP and TLS handshake) for every answer; this does not.
A ``response_url`` is a 30-minute capability: it is never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack.outbound.blocks.types import Block
from bot.slack.outbound.masking import Mask, masked, no_mask
from bot.version import USER_AGENT

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]
"""``await respond(text=..., blocks=..., response_type="ephemeral", replace_original=False)``."""


class ResponseUrls:
    def __init__(self, session: aiohttp.ClientSession | None = None, *, mask: Mask = no_mask) -> None:
        self._session = session
        self._mask = mask

    def to(self, response_url: str | None) -> Respond:
        """A ``respond`` bound to ``response_url``; with no URL, answers are logged and dropped."""

        async def respond(
            *,
            text: str,
            blocks: list[Block] | None = None,
            response_type: str = "ephemeral",
            replace_original: bool = False,
        ) -> int | None:
            if not response_url:
                log.info("no response_url to answer with; dropped: %s", text[:200])
                return None
            response = await AsyncWebhookClient(
                response_url, session=self._session, user_agent_prefix=USER_AGENT
            ).send(
                text=self._mask(text),
                blocks=masked(blocks, self._mask),
                response_type=response_type,
                replace_original=replace_original,
            )
            if response.status_code != 200:
                log.warning("response_url refused an answer (HTTP %s)", response.status_code)
            return response.status_code

        return respond
