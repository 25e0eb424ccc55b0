"""OAuth2 client-credentials tokens for the bol.com Retailer API, and the bearer auth flow.

``POST token_url`` with HTTP Basic auth (client id and secret) and the form body
``grant_type=client_credentials``. The access token is cached until shortly before it expires,
concurrent callers share one fetch, and neither the secret nor a token ever appears in logs,
exception texts or reprs. :class:`BearerAuth` sends it as an ``httpx.Auth`` flow: a 401 fetches
a new token once (one fetch for all callers refused the same token) and repeats the request once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from bot.backend.responses import json_or_none
from bot.bol.errors import BolAuthError, BolError, BolRateLimited, BolUnavailable
from bot.bol.wire import problem_text

log = logging.getLogger(__name__)

EXPIRY_MARGIN_SECONDS = 30.0
"""Tokens are renewed this long before bol.com says they expire (but used for at least half their life)."""

DEFAULT_EXPIRES_IN = 60.0
"""Lifetime assumed when the token answer has no usable ``expires_in``."""

MAX_ERROR_TEXT = 200


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float

    def __repr__(self) -> str:
        return f"_Token(renew_at={self.renew_at!r})"


class TokenProvider:
    """Fetches and caches bol.com access tokens; safe to share between concurrent tasks."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._client_id = client_id
        self._secret = client_secret
        self._clock = clock
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenProvider(token_url={self._token_url!r}, client_id={self._client_id!r})"

    async def token(self) -> str:
        """A valid access token: the cached one, or a fresh one (one fetch for all waiting callers)."""
        current = self._valid_token()
        if current is not None:
            return current
        async with self._lock:
            current = self._valid_token()
            if current is not None:
                return current
            return await self._fetch_locked()

    async def refresh(self, rejected: str | None = None) -> str:
        """Drop ``rejected`` and fetch a new token, unless another caller already replaced it."""
        async with self._lock:
            current = self._valid_token()
            if current is not None and current != rejected:
                return current
            self._token = None
            return await self._fetch_locked()

    def invalidate(self) -> None:
        self._token = None

    def _valid_token(self) -> str | None:
        token = self._token
        if token is None or self._clock() >= token.renew_at:
            return None
        return token.value

    async def _fetch_locked(self) -> str:
        self._token = None
        response = await self._post()
        if response.status_code != 200:
            raise self._refusal(response)
        value, expires_in = _parse_token_answer(response)
        self._token = _Token(value, self._clock() + _cache_seconds(expires_in))
        log.debug(
            "fetched a bol.com access token for client %s (expires in %ss)", self._client_id, expires_in
        )
        return value

    async def _post(self) -> httpx.Response:
        try:
            response = await self._http.post(
                self._token_url,
                data={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(self._client_id, self._secret.get_secret_value()),
                headers={"Accept": "application/json"},
            )
        except httpx.TimeoutException as exc:
            raise BolUnavailable("the bol.com token endpoint did not answer in time") from exc
        except httpx.TransportError as exc:
            raise BolUnavailable(f"cannot reach the bol.com token endpoint ({type(exc).__name__})") from exc
        log.debug("POST %s -> %d", response.request.url.path, response.status_code)
        return response

    def _refusal(self, response: httpx.Response) -> BolError:
        status = response.status_code
        reason = self._scrub(_oauth_error(response))
        suffix = f": {reason}" if reason else ""
        if status >= 500:
            return BolUnavailable(f"the bol.com token endpoint answered HTTP {status}", status=status)
        if status == 429:
            return BolRateLimited("the bol.com token endpoint is rate limiting us (HTTP 429)", status=status)
        return BolAuthError(
            f"bol.com refused the credentials of client id {self._client_id!r} (HTTP {status}){suffix}",
            status=status,
            detail=reason or None,
        )

    def _scrub(self, text: str) -> str:
        secret = self._secret.get_secret_value()
        return text.replace(secret, "***") if secret else text


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer`` from a :class:`TokenProvider`; on 401 a new token and one repeat.

    A 401 on the repeat is handed back to the caller: a freshly fetched token was refused too.
    Token endpoint failures raise the provider's errors out of the request.
    """

    requires_response_body = True

    def __init__(self, tokens: TokenProvider) -> None:
        self._tokens = tokens

    def __repr__(self) -> str:
        return f"BearerAuth({self._tokens!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("BearerAuth needs an httpx.AsyncClient")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._tokens.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        await response.aread()
        log.info("bol.com refused the access token (%s); fetching a new one", problem_text(response))
        token = await self._tokens.refresh(rejected=token)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def _cache_seconds(expires_in: float) -> float:
    """``expires_in`` minus a margin, but at least half the lifetime."""
    return max(expires_in - EXPIRY_MARGIN_SECONDS, expires_in / 2)


def _parse_token_answer(response: httpx.Response) -> tuple[str, float]:
    body = json_or_none(response)
    if not isinstance(body, Mapping):
        raise BolAuthError("the bol.com token endpoint answered without a JSON object", status=200)
    value = body.get("access_token")
    if not isinstance(value, str) or not value:
        raise BolAuthError("the bol.com token endpoint answered without an access_token", status=200)
    token_type = body.get("token_type")
    if isinstance(token_type, str) and token_type.lower() != "bearer":
        log.warning("unexpected bol.com token_type %r; using it as a bearer token", token_type)
    return value, _expires_in(body.get("expires_in"))


def _expires_in(raw: Any) -> float:
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_EXPIRES_IN
    return seconds if seconds > 0 else DEFAULT_EXPIRES_IN


def _oauth_error(response: httpx.Response) -> str:
    """``error`` (and ``error_description``) of an OAuth2 error answer; never the raw body."""
    body = json_or_none(response)
    if not isinstance(body, Mapping):
        return ""
    parts = [body.get("error"), body.get("error_description")]
    text = " - ".join(p for p in parts if isinstance(p, str) and p)
    return text[:MAX_ERROR_TEXT]
