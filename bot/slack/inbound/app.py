"""The Bolt app: signature verification, our own workspace only, listeners, a last-resort error handler.

``process_before_response=True``: Bolt answers Slack as soon as the listener returns, and every
listener acks first and hands slow work to ``BackgroundWork``. (With ``False`` Bolt starts the
listener and checks for the ack every 10 ms, so no ack could take less than that.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.logging_setup import log_context

log = logging.getLogger(__name__)

OTHER_WORKSPACE_MESSAGE = "This bot serves only the Slack workspace it was installed in."
CANNOT_ACT_IN_SLACK_MESSAGE = (
    "The approvals bot cannot act in Slack right now: Slack refuses its bot token. "
    "Please tell whoever runs the bot to check SLACK_BOT_TOKEN (its /readyz says why)."
)
"""What a user sees instead of Bolt's "please reinstall this app" when ``auth.test`` fails."""


def serves(
    own_team: str | None, own_enterprise: str | None, team: str | None, enterprise: str | None
) -> bool:
    """Whether a request from ``team``/``enterprise`` comes from the bot's own workspace (``auth.test``).

    In an Enterprise Grid organisation the organisation decides (any of its workspaces); elsewhere the
    team id must be ours. A request naming an organisation the bot is not in is never served.
    """
    if enterprise is not None and enterprise != own_enterprise:
        return False
    if own_enterprise is not None and enterprise == own_enterprise:
        return True
    return team is not None and team == own_team


async def only_our_workspace(
    req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """Refuses requests from other workspaces (after Bolt's ``auth.test`` gave us our own ids).

    A slash command gets a plain-words answer; anything else a bare 403.
    """
    ours = req.context.authorize_result
    if ours is None or serves(
        ours.team_id, ours.enterprise_id, req.context.team_id, req.context.enterprise_id
    ):
        return await next()
    log.warning(
        "refused a Slack request from another workspace (team %s, enterprise %s)",
        req.context.team_id,
        req.context.enterprise_id,
    )
    if "command" in req.body:
        answer = {"response_type": "ephemeral", "text": OTHER_WORKSPACE_MESSAGE}
        return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})
    return BoltResponse(status=403, body=OTHER_WORKSPACE_MESSAGE)


async def our_workspace_with_the_user_named(
    req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """:func:`only_our_workspace`, then the rest with the user named in every log line. One Bolt
    middleware, not two: Bolt works out each middleware's arguments anew on every request."""

    async def named() -> BoltResponse:
        with log_context(slack_user=slack_user_id(req.body)):
            return await next()

    return await only_our_workspace(req, named)


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
        name="approvals-bot",  # else Bolt names the app after its caller's file, from inspect.stack()
        token=bot_token,
        signing_secret=signing_secret,
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
        user_facing_authorize_error_message=CANNOT_ACT_IN_SLACK_MESSAGE,
    )

    app.use(our_workspace_with_the_user_named)

    @app.error
    async def on_unhandled_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for a %s request: %r", body.get("type") or "command", error)

    return app
