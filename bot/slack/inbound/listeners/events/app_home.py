"""``app_home_opened``: the user opened the app's Home tab, so it is published fresh."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import slack_error_code

log = logging.getLogger(__name__)

HOME_TAB = "home"


class AppHomeListener:
    def __init__(self, home: AppHome) -> None:
        self._home = home

    async def on_opened(self, event: dict[str, Any]) -> None:
        user_id = str(event.get("user") or "")
        if event.get("tab") != HOME_TAB or not user_id:
            return  # the Messages tab, or nobody to show it to
        try:
            await self._home.publish(user_id)
        except SlackApiError as error:
            log.warning("could not publish the App Home of %s: %s", user_id, slack_error_code(error))
