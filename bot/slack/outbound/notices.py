"""Private notes to one Slack user, as a direct message from the bot (``chat.postMessage`` to their
user id, which opens the bot's DM with them). A note that cannot be sent is logged, never raised."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.outbound.poster import slack_error_code

log = logging.getLogger(__name__)


class SlackDirectMessages:
    """The Slack implementation of the core's ``UserNotices``."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def tell(self, user_id: str, text: str) -> bool:
        try:
            await self._client.chat_postMessage(channel=user_id, text=text)
        except SlackApiError as error:
            log.warning("could not send %s a direct message: %s", user_id, slack_error_code(error))
            return False
        return True
