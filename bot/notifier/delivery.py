"""Posting where a notification belongs, or in the default channel when the bot cannot post there.

A channel that is gone, archived or without the bot must not hold a notification back for ever: the
message goes to the fallback channel instead (``PROCESS_STATUS_CHANNEL``), and the caller records
where it went. Any other failure is raised: a definite one releases the caller's claim, and one with
no answer (``PostOutcomeUnknown``) leaves it for the reconciler. ``before_post`` is told each channel
just before a post goes there (the caller records its post attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError

from bot.messaging import MessageKey
from bot.slack.outbound.blocks.types import Block
from bot.slack.outbound.poster import SlackPoster, slack_error_code

log = logging.getLogger(__name__)

UNDELIVERABLE = ("channel_not_found", "not_in_channel", "is_archived", "channel_is_archived")


async def post_with_fallback(
    poster: SlackPoster,
    channel: str,
    fallback_channel: str,
    text: str,
    blocks: list[Block],
    *,
    key: MessageKey | None = None,
    before_post: Callable[[str], Awaitable[None]] | None = None,
) -> tuple[str, str]:
    """Posts in ``channel``, or in ``fallback_channel`` if the bot can't post there; returns the channel
    it went to and the message's ``ts``."""
    try:
        if before_post is not None:
            await before_post(channel)
        return channel, await poster.post(channel, text, blocks, key=key)
    except SlackApiError as error:
        if slack_error_code(error) not in UNDELIVERABLE or channel == fallback_channel:
            raise
        log.warning("cannot post in %s (%s); using %s", channel, slack_error_code(error), fallback_channel)
        if before_post is not None:
            await before_post(fallback_channel)
        return fallback_channel, await poster.post(fallback_channel, text, blocks, key=key)
