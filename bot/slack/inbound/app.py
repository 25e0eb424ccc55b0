"""The Bolt app: signature verification, listeners, and a last-resort error handler.

``process_before_response=True``: Bolt answers Slack as soon as the listener returns, and every
listener acks first and hands slow work to ``BackgroundWork``. (With ``False`` Bolt starts the
listener and checks for the ack every 10 ms, so no ack could take less than that.)
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


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

    @app.error
    async def on_unhandled_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for a %s request: %r", body.get("type") or "command", error)

    return app
