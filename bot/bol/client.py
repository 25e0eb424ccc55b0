"""Async client for bol.com's shared ``process-status`` resource (Retailer API v10).

Every call carries a bearer token through :class:`~bot.bol.auth.BearerAuth` (a 401 fetches a new
token once and repeats the call once). 429 answers are waited out (``Retry-After``, bounded);
5xx answers, timeouts and connection errors are retried with backoff and jitter through
:func:`bot.backend.retry.retry_reads` (all calls here are reads). Wire formats and Problem JSON
errors live in :mod:`bot.bol.wire`; this module is the transport.

Invariant: the client secret and access tokens never appear in logs, reprs or exception texts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import SecretStr

from bot.backend.retry import ReadRetry, Sleep, retry_reads
from bot.backend.transport import DEFAULT_HTTP, HttpOptions, OwnsHttpClient, bounded_transport
from bot.bol import wire
from bot.bol.auth import BearerAuth, TokenProvider
from bot.bol.errors import BolAuthError, BolUnavailable
from bot.bol.models import MAX_BULK_IDS, BulkResult, ProcessStatus
from bot.bol.rate_limit import RateLimitPacer
from bot.version import USER_AGENT

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.retailer.v10+json"
PROCESS_STATUS_PATH = "/shared/process-status"
READ_ATTEMPTS = 3
READ_BACKOFF_SECONDS = 0.25
READ_JITTER_SECONDS = 0.125
DEFAULT_RETRY_AFTER_SECONDS = 1.0


@dataclass(frozen=True)
class Waits:
    """How the client waits: the jitter of read retries, the 429 answers it waits out (at most
    ``max_rate_limit_waits``, each at most ``max_retry_after_seconds``), and ``sleep`` doing it."""

    jitter_seconds: float = READ_JITTER_SECONDS
    max_rate_limit_waits: int = 3
    max_retry_after_seconds: float = 60.0
    sleep: Sleep = asyncio.sleep


class BolClient(OwnsHttpClient):
    """bol.com process-status client; use as ``async with BolClient(...) as client``."""

    def __init__(
        self,
        api_url: str,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        http: HttpOptions = DEFAULT_HTTP,
        waits: Waits = Waits(),
        pacer: RateLimitPacer | None = None,
    ) -> None:
        if waits.max_rate_limit_waits < 0:
            raise ValueError("max_rate_limit_waits must not be negative")
        self._api_url = api_url.rstrip("/")
        self._timeout = http.timeout
        self._max_rate_limit_waits = waits.max_rate_limit_waits
        self._max_retry_after = max(0.0, waits.max_retry_after_seconds)
        self._sleep = sleep = waits.sleep
        self._read_retry = ReadRetry(
            attempts=READ_ATTEMPTS,
            backoff_seconds=READ_BACKOFF_SECONDS,
            jitter_seconds=waits.jitter_seconds,
            sleep=sleep,
        )
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(http.timeout),
            headers={"User-Agent": USER_AGENT},
            transport=bounded_transport(http.transport, http.max_concurrent_requests),
        )
        self._tokens = TokenProvider(self._http, token_url, client_id, client_secret)
        self._bearer = BearerAuth(self._tokens)
        self._client_id = client_id
        self._pacer = pacer or RateLimitPacer(sleep=sleep)

    def __repr__(self) -> str:
        return f"BolClient(api_url={self._api_url!r}, client_id={self._client_id!r})"

    # -- public API ------------------------------------------------------------
    async def fetch_token(self) -> None:
        """Fetch a new access token now (checks the client credentials)."""
        await self._tokens.refresh()

    async def get_process_status(self, process_status_id: str) -> ProcessStatus | None:
        """``GET /shared/process-status/{id}``; ``None`` when bol.com answers 404 (unknown or purged)."""
        path = f"{PROCESS_STATUS_PATH}/{wire.path_segment(process_status_id)}"
        response = await self._call("GET", path)
        if response.status_code == 404:
            return None
        wire.raise_for_status(response, f"read process status {process_status_id}")
        return wire.parse_status(wire.json_object(response), default_id=process_status_id)

    async def get_process_statuses(self, ids: Sequence[str]) -> BulkResult:
        """Bulk ``POST /shared/process-status`` in chunks of at most 1000 distinct ids."""
        unique = list(dict.fromkeys(wire.checked_id(i) for i in ids))
        found: dict[str, ProcessStatus] = {}
        purged: set[str] = set()
        for start in range(0, len(unique), MAX_BULK_IDS):
            chunk = unique[start : start + MAX_BULK_IDS]
            statuses = await self._bulk(chunk)
            found.update(statuses)
            purged.update(i for i in chunk if i not in statuses)
        return BulkResult(found=found, purged=purged)

    async def get_by_entity(self, entity_id: str, event_type: str, page: int = 1) -> list[ProcessStatus]:
        """``GET /shared/process-status?entity-id=&event-type=&page=`` (50 per page, newest first)."""
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise ValueError(f"page must be a positive integer, not {page!r}")
        params = {
            "entity-id": wire.checked_id(entity_id, what="entity id"),
            "event-type": wire.checked_id(event_type, what="event type"),
            "page": str(page),
        }
        response = await self._call("GET", PROCESS_STATUS_PATH, params=params)
        wire.raise_for_status(response, f"list {event_type} process statuses of entity {entity_id}")
        return wire.parse_list(wire.json_object(response))

    # -- calls -------------------------------------------------------------------
    async def _bulk(self, chunk: list[str]) -> dict[str, ProcessStatus]:
        response = await self._call("POST", PROCESS_STATUS_PATH, json_body=wire.bulk_body(chunk))
        wire.raise_for_status(response, f"read {len(chunk)} process statuses")
        return {s.process_status_id: s for s in wire.parse_list(wire.json_object(response))}

    async def _call(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json_body: Any = None
    ) -> httpx.Response:
        """A read: retried on :class:`BolUnavailable` (5xx, timeouts, connection errors)."""

        async def attempt() -> httpx.Response:
            return await self._rate_limited(method, path, params, json_body)

        return await retry_reads(attempt, self._read_retry, on=BolUnavailable, what=f"{method} {path}")

    async def _rate_limited(
        self, method: str, path: str, params: Mapping[str, str] | None, json_body: Any
    ) -> httpx.Response:
        """Waits out 429 answers (at most ``max_rate_limit_waits`` times); raises on 5xx."""
        waits = 0
        while True:
            response = await self._send(method, path, params, json_body)
            if response.status_code >= 500:
                raise wire.unavailable(response)
            if response.status_code != 429:
                return response
            if waits >= self._max_rate_limit_waits:
                raise wire.rate_limited(response, waits)
            delay = _retry_after_seconds(response.headers.get("Retry-After"), self._max_retry_after)
            log.info("bol.com rate limit on %s %s; waiting %.1fs", method, path, delay)
            await self._sleep(delay)
            waits += 1

    async def _send(
        self, method: str, path: str, params: Mapping[str, str] | None, json_body: Any
    ) -> httpx.Response:
        """One request with the bearer token; a 401 still there after the token flow is an auth error."""
        headers = {"Accept": MEDIA_TYPE}
        content: bytes | None = None
        if json_body is not None:
            headers["Content-Type"] = MEDIA_TYPE
            content = json.dumps(json_body, separators=(",", ":")).encode()
        await self._pacer.wait()  # rate-limit pacing hook
        try:
            response = await self._http.request(
                method,
                f"{self._api_url}{path}",
                params=params,
                content=content,
                headers=headers,
                auth=self._bearer,
            )
        except httpx.TimeoutException as exc:
            raise BolUnavailable(f"bol.com did not answer within {self._timeout:g}s") from exc
        except httpx.TransportError as exc:
            raise BolUnavailable(f"bol.com is not reachable ({type(exc).__name__})") from exc
        self._pacer.observe(response.headers)  # rate-limit pacing hook
        log.debug("%s %s -> %d", method, path, response.status_code)
        if response.status_code == 401:
            self._tokens.invalidate()
            raise wire.error(BolAuthError, response, "bol.com refused a freshly fetched access token")
        return response


# -- Retry-After ----------------------------------------------------------------------
def _retry_after_seconds(header: str | None, cap: float) -> float:
    """``Retry-After`` as delta-seconds or an HTTP-date; 1 s when missing or unreadable; capped."""
    seconds = DEFAULT_RETRY_AFTER_SECONDS
    if header is not None and header.strip():
        text = header.strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = _seconds_until(text)
    if not math.isfinite(seconds):
        seconds = DEFAULT_RETRY_AFTER_SECONDS
    return min(max(seconds, 0.0), cap)


def _seconds_until(http_date: str) -> float:
    try:
        moment = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER_SECONDS
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime.now(UTC)).total_seconds()
