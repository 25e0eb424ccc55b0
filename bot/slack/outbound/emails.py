"""Slack users' e-mail addresses (``users.info``), for linking them to Commerce users by e-mail.

Needs the ``users:read`` and ``users:read.email`` scopes; without them (or for a bot, a user without
an address, or one whose address Slack has not confirmed: ``is_email_confirmed`` not true) the answer
is ``None`` and the user stays unlinked.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.outbound.poster import slack_error_code

log = logging.getLogger(__name__)


class SlackUserEmails:
    """The Slack implementation of the core's ``UserEmails``."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def email_of(self, user_id: str) -> str | None:
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning("cannot read the e-mail of %s: %s", user_id, slack_error_code(error))
            return None
        user = response.get("user") or {}
        profile = user.get("profile") if isinstance(user, dict) else None
        email = profile.get("email") if isinstance(profile, dict) else None
        if not isinstance(user, dict) or user.get("is_bot"):
            return None
        if user.get("is_email_confirmed") is not True:
            # Anyone can type any address into a profile until Slack confirms it: never trusted.
            log.info("the e-mail of %s is not confirmed by Slack; not used to link them", user_id)
            return None
        return email.strip() if isinstance(email, str) and email.strip() else None
