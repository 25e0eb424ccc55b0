"""The Bolt app: signature verification, listeners, and a last-resort error handler.

``process_before_response=True``: Bolt answers Slack as soon as the listener returns, and every
listener acks first and hands slow work to ``BackgroundWork``. (With ``False`` Bolt starts the
listener and checks for the ack every 10 ms, so no ack could take less than that.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.logging_setup import log_context

log = logging.getLogger(__name__)


def slack_user_id(body: dict[str, Any]) -> str | None:
    """Who sent the request: ``user_id`` of a slash command, ``user.id`` of a click or a modal."""
    user = body.get("user")
    found = body.get("user_id") or (user.get("id") if isinstance(user, dict) else None)
    return found if isinstance(found, str) else None


def build_bolt_app(bot_token: str, signing_secret: str) -> AsyncApp:
    """A Bolt app with its own Web API client (``app.client``) and no listeners yet.

    Bolt is given the token, not a client: given a client it still reads ``SLACK_BOT_TOKEN`` from
    the environment and warns on every start that the token is unused.
    """
    app = AsyncApp(
        token=bot_token,
        signing_secret=signing_secret,
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )

    @app.middleware
    async def name_the_user_in_logs(body: dict[str, Any], next_: Callable[[], Awaitable[Any]]) -> Any:
        with log_context(slack_user=slack_user_id(body)):
            return await next_()

    @app.error
    async def on_unhandled_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for a %s request: %r", body.get("type") or "command", error)

    return app
