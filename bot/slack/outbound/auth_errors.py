"""Counts Slack refusing the bot token (revoked, expired, deactivated) on every Web API answer, and
keeps whether the token is refused now (``SlackToken``, read by ``/readyz``).

Bolt checks the token once (``auth.test`` at the first request) and caches the answer, so a token
revoked later shows only as failing calls. slack_sdk shows each answer to the client's retry
handlers, so this sits among them as an observer: it counts and never asks for a retry.
"""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import Metrics

TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
TOKEN_CAUSES = {
    "invalid_auth": "SLACK_BOT_TOKEN is wrong, was revoked, or is of another workspace",
    "not_authed": "SLACK_BOT_TOKEN is empty",
    "token_revoked": "SLACK_BOT_TOKEN was revoked (the app was uninstalled or the token rotated)",
    "token_expired": "SLACK_BOT_TOKEN expired (token rotation is on for the app)",
    "account_inactive": "the app's bot user was deactivated, or the app was removed from the workspace",
}


def token_refusal(code: str) -> str:
    """Slack's ``code`` for a refused bot token, with its likely cause and where to fix it."""
    cause = TOKEN_CAUSES.get(code, "Slack refused SLACK_BOT_TOKEN")
    return f"{code}: {cause}; copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page"


class SlackToken:
    """Whether Slack refuses the bot token right now: set by a refused call, cleared by an accepted one."""

    def __init__(self) -> None:
        self.refused: str | None = None
        """Slack's error code of the latest refusal, ``None`` while the token is accepted."""

    def problem(self) -> str | None:
        """Why the bot cannot act in Slack (for ``/readyz``), ``None`` when the token is accepted."""
        return None if self.refused is None else f"token refused: {token_refusal(self.refused)}"


class SlackAuthErrorCounter(AsyncRetryHandler):
    def __init__(self, metrics: Metrics, token: SlackToken | None = None) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics
        self._token = token

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        body = response.body if response is not None else None
        if isinstance(body, dict) and body.get("error") in TOKEN_ERRORS:
            self._metrics.slack_auth_errors.labels(str(body["error"])).inc()
            if self._token is not None:
                self._token.refused = str(body["error"])
        elif isinstance(body, dict) and body.get("ok") is True and self._token is not None:
            self._token.refused = None
        return False
