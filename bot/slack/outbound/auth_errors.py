"""Counts Slack refusing the bot token (revoked, expired, deactivated) on every Web API answer.

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


class SlackAuthErrorCounter(AsyncRetryHandler):
    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

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
        return False
