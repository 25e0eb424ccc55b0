"""Answers the slash commands of a backend the deployment runs without (Commerce or bol.com).

Commerce and bol.com are each optional; a command of the one that is off gets one plain ephemeral
line instead of an error from a client with no settings, and the App Home (Commerce's approvals) is
not published without Commerce.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

APPROVALS_OFF = (
    "Commerce approvals are not set up in this bot (its HCL Commerce settings are not set), "
    "so /approvals has nothing to show."
)
PROCESS_STATUS_OFF = (
    "bol.com process status is not set up in this bot (its bol.com credentials are not set), "
    "so /process-status cannot look anything up."
)
HOME_EVENT = "app_home_opened"

Middleware = Callable[[AsyncBoltRequest, Callable[[], Awaitable[BoltResponse]]], Awaitable[BoltResponse]]


def answer_off_backends(*, commerce: bool, bol: bool) -> Middleware:
    """A Bolt middleware answering the commands of the backend(s) that are off with a plain line."""
    answers: Mapping[str, str] = {
        **({} if commerce else {"/approvals": APPROVALS_OFF}),
        **({} if bol else {"/process-status": PROCESS_STATUS_OFF}),
    }

    async def off_backends(
        req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        command = req.body.get("command")
        if isinstance(command, str) and command in answers:
            answer = {"response_type": "ephemeral", "text": answers[command]}
            return BoltResponse(
                status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
            )
        event = req.body.get("event")
        if not commerce and isinstance(event, dict) and event.get("type") == HOME_EVENT:
            return BoltResponse(status=200, body="")  # the Home tab lists approvals: nothing to show
        return await next()

    return off_backends
