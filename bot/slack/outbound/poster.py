"""Outgoing Slack messages: paced per channel (Slack allows about one message per second per channel),
with every secret masked.

A post either succeeds, fails definitely (Slack said no: ``SlackApiError`` with ``ok: false`` or a
429; the connection could not be made, so nothing was sent) or ends with no answer after the request
went out (a timeout, a dropped connection, a 5xx): that last case raises ``PostOutcomeUnknown``, for
the message may be in the channel, and the caller must not simply post it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messaging import Announced, MessageKey, MessageRef
from bot.slack.outbound.blocks.types import Block
from bot.slack.outbound.masking import Mask, masked, no_mask

log = logging.getLogger(__name__)

HISTORY_PAGE_LIMIT = 200
"""Messages per ``conversations.history`` (or ``conversations.replies``) page when looking a message up."""


HISTORY_NEVER_READABLE = frozenset({"missing_scope", "not_in_channel", "channel_not_found"})
"""``conversations.history`` and ``conversations.replies`` errors that trying again will not change:
the app lacks the history scope (installed before it was added), or the bot cannot see the channel."""


class PostOutcomeUnknown(Exception):
    """The post went out and no answer came back: Slack may have stored the message."""


class HistoryUnreadable(Exception):
    """The channel's history cannot be read, and trying again will not change that."""


@dataclass
class _Lane:
    """One channel's turn to post: held while a post is under way, free again ``min_interval`` after
    its answer."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    free_at: float = 0.0


class SlackPoster:
    """Posts in one channel one at a time, each ``min_interval_seconds`` after the previous one's
    answer: Slack counts a message when it arrives, and a post that left late or travelled slowly
    arrived before its answer, so two posts of one channel never reach Slack closer than the interval
    (and never out of order). Channels do not wait for each other."""

    def __init__(
        self, client: AsyncWebClient, *, min_interval_seconds: float = 1.0, mask: Mask = no_mask
    ) -> None:
        self._client = client
        self._mask = mask
        self._min_interval = min_interval_seconds
        self._lanes: dict[str, _Lane] = {}

    @contextlib.asynccontextmanager
    async def _turn(self, channel: str) -> AsyncIterator[None]:
        lane = self._lanes.setdefault(channel, _Lane())
        async with lane.lock:
            delay = lane.free_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                yield
            finally:
                lane.free_at = time.monotonic() + self._min_interval

    async def post(
        self,
        channel: str,
        text: str,
        blocks: list[Block],
        *,
        thread_ts: str | None = None,
        key: MessageKey | None = None,
    ) -> str:
        """Posts a message (a reply in ``thread_ts``'s thread when given, carrying ``key`` in its metadata
        when given) and returns its ``ts``. Raises ``PostOutcomeUnknown`` when the request went out and
        no answer came back; any other error means the message was not posted."""
        try:
            async with self._turn(channel):
                response = await self._client.chat_postMessage(
                    channel=channel,
                    text=self._mask(text),
                    blocks=masked(blocks, self._mask),
                    thread_ts=thread_ts,
                    metadata=None if key is None else key.metadata(),
                )
        except Exception as error:
            if outcome_unknown(error):
                raise PostOutcomeUnknown(f"Slack did not confirm it ({type(error).__name__})") from error
            raise
        return str(response["ts"])

    async def post_direct(self, user_id: str, text: str, blocks: list[Block]) -> MessageRef:
        """Posts a direct message from the bot to ``user_id``; where it went (the DM channel Slack
        answers with, which ``chat.update`` needs). Errors as :meth:`post`."""
        try:
            async with self._turn(user_id):
                response = await self._client.chat_postMessage(
                    channel=user_id, text=self._mask(text), blocks=masked(blocks, self._mask)
                )
        except Exception as error:
            if outcome_unknown(error):
                raise PostOutcomeUnknown(f"Slack did not confirm it ({type(error).__name__})") from error
            raise
        return MessageRef(str(response["channel"]), str(response["ts"]))

    async def find_posted(
        self, channel: str, key: MessageKey, *, oldest: datetime, latest: datetime, pages: int
    ) -> str | None:
        """The ``ts`` of the top-level message in ``channel`` carrying ``key`` in its metadata, posted
        between ``oldest`` and ``latest``; ``None`` when it is not there. Reads at most ``pages`` pages of
        ``conversations.history`` (Tier 3); a window with more than that is taken as not found. Raises
        ``HistoryUnreadable`` when Slack refuses the history for good (a missing scope)."""
        return await self._find(
            self._client.conversations_history,
            key,
            pages,
            what=channel,
            channel=channel,
            oldest=_slack_ts(oldest),
            latest=_slack_ts(latest),
        )

    async def announced_in(self, channel: str, kind: Announced, *, pages: int) -> dict[str, str]:
        """The announcements of ``kind`` among the newest ``pages`` pages of ``channel``'s history: the id
        each names, with its message's ``ts`` (the newest, if one id was posted twice). Raises
        ``HistoryUnreadable`` when Slack refuses the history for good."""
        found: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(pages):
            response = await self._page(
                self._client.conversations_history,
                channel=channel,
                include_all_metadata=True,
                limit=HISTORY_PAGE_LIMIT,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                announced = (
                    MessageKey.id_in(kind, message.get("metadata")) if isinstance(message, dict) else None
                )
                if announced is not None:
                    found.setdefault(announced, str(message["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or cursor is None:
                break
        return found

    async def find_reply(
        self, channel: str, thread_ts: str, key: MessageKey, *, oldest: datetime, latest: datetime, pages: int
    ) -> str | None:
        """As ``find_posted``, for a reply in the thread of ``thread_ts`` (thread replies are not in the
        history): reads ``conversations.replies`` (Tier 3, the same history scopes). A thread that is gone
        (``thread_not_found``: its parent was deleted) holds no reply: ``None``."""
        try:
            return await self._find(
                self._client.conversations_replies,
                key,
                pages,
                what=f"the thread {thread_ts} in {channel}",
                channel=channel,
                ts=thread_ts,
                oldest=_slack_ts(oldest),
                latest=_slack_ts(latest),
            )
        except SlackApiError as error:
            if slack_error_code(error) != "thread_not_found":
                raise
            return None

    async def _find(
        self, read: Callable[..., Awaitable[Any]], key: MessageKey, pages: int, *, what: str, **arguments: Any
    ) -> str | None:
        """Pages through ``read`` (a conversations method) for the message carrying ``key``."""
        cursor: str | None = None
        for _ in range(pages):
            response = await self._page(
                read,
                **arguments,
                inclusive=True,
                include_all_metadata=True,
                limit=HISTORY_PAGE_LIMIT,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                if isinstance(message, dict) and key.matches(message.get("metadata")):
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or cursor is None:
                return None
        log.warning("%s has over %d pages of messages around the post: taken as not there", what, pages)
        return None

    @staticmethod
    async def _page(read: Callable[..., Awaitable[Any]], **arguments: Any) -> Any:
        """One page of a conversations method; ``HistoryUnreadable`` when Slack will never give it."""
        try:
            return await read(**arguments)
        except SlackApiError as error:
            code = slack_error_code(error)
            if code not in HISTORY_NEVER_READABLE:
                raise
            needed = error.response.get("needed") if hasattr(error.response, "get") else None
            raise HistoryUnreadable(f"{code} ({needed})" if needed else str(code)) from error

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


def outcome_unknown(error: BaseException) -> bool:
    """Whether a failed ``chat.postMessage`` may still have posted: the request was sent and no answer
    came (a timeout, a connection dropped after connecting, a 5xx). Slack's own ``ok: false`` and 429s,
    and a connection that could not be made, are definite."""
    if isinstance(error, SlackApiError):
        return _status(error.response) >= 500
    if isinstance(error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return False  # never connected: nothing was sent
    return isinstance(error, aiohttp.ClientError | TimeoutError | asyncio.CancelledError)


def _status(response: Any) -> int:
    """The HTTP status of a ``SlackApiError``'s response: a ``SlackResponse`` (``status_code``), or the
    raw aiohttp response (``status``) slack_sdk attaches when a body it expected as JSON was not."""
    status: Any = getattr(response, "status_code", None)
    if status is None:
        status = getattr(response, "status", 200)
    try:
        return int(status)
    except (TypeError, ValueError):
        return 200


def slack_error_code(error: SlackApiError) -> str | None:
    """Slack's ``error`` code, ``None`` when the answer was not Slack's JSON (a proxy's page)."""
    response = error.response
    code = response.get("error") if hasattr(response, "get") else None
    return None if code is None else str(code)


def _slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"
