"""The Bolt app: signature verification, listeners, and a last-resort error handler."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.runtime import Runtime
from bot.slack.listeners import register_listeners

log = logging.getLogger(__name__)


def build_bolt_app(runtime: Runtime) -> AsyncApp:
    app = AsyncApp(
        client=runtime.slack,
        signing_secret=runtime.settings.slack_signing_secret.get_secret_value(),
        process_before_response=False,
        logger=logging.getLogger("slack_bolt"),
    )
    register_listeners(app, runtime)

    @app.error
    async def on_unhandled_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for a %s request: %r", body.get("type") or "command", error)

    return app
