"""Async client for bol.com's shared ``process-status`` resource (Retailer API v10).

Every call carries a bearer token from :class:`~bot.bol.auth.TokenProvider`; a 401 drops the
token, fetches a new one once and repeats the call once. 429 answers are waited out (``Retry-After``,
bounded), 5xx answers, timeouts and connection errors are retried a few times with a short backoff
(all calls here are reads), and Problem JSON bodies become the typed errors of
:mod:`bot.bol.errors`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from bot.bol.auth import TokenProvider
from bot.bol.errors import BolAuthError, BolBadRequest, BolError, BolRateLimited, BolUnavailable, Violation
from bot.bol.models import MAX_BULK_IDS, BulkResult, ProcessState, ProcessStatus
from bot.bol.rate_limit import RateLimitPacer
from bot.http_client import OwnsHttpClient, json_or_none

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.retailer.v10+json"
PROCESS_STATUS_PATH = "/shared/process-status"
READ_ATTEMPTS = 3
READ_BACKOFF_SECONDS = 0.25
DEFAULT_RETRY_AFTER_SECONDS = 1.0

Sleep = Callable[[float], Awaitable[None]]
E = TypeVar("E", bound=BolError)


class BolClient(OwnsHttpClient):
    """bol.com process-status client; use as ``async with BolClient(...) as client``."""

    def __init__(
        self,
        api_url: str,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        timeout: float = 10.0,
        max_rate_limit_waits: int = 3,
        max_retry_after_seconds: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        pacer: RateLimitPacer | None = None,
    ) -> None:
        if max_rate_limit_waits < 0:
            raise ValueError("max_rate_limit_waits must not be negative")
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._max_rate_limit_waits = max_rate_limit_waits
        self._max_retry_after = max(0.0, max_retry_after_seconds)
        self._sleep = sleep
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout), transport=transport)
        self._auth = TokenProvider(self._http, token_url, client_id, client_secret)
        self._client_id = client_id
        self._pacer = pacer or RateLimitPacer(sleep=sleep)

    def __repr__(self) -> str:
        return f"BolClient(api_url={self._api_url!r}, client_id={self._client_id!r})"

    # -- public API ------------------------------------------------------------
    async def fetch_token(self) -> None:
        """Fetch a new access token now (checks the client credentials)."""
        await self._auth.refresh()

    async def get_process_status(self, process_status_id: str) -> ProcessStatus | None:
        """``GET /shared/process-status/{id}``; ``None`` when bol.com answers 404 (unknown or purged)."""
        path = f"{PROCESS_STATUS_PATH}/{_path_segment(process_status_id)}"
        response = await self._call("GET", path)
        if response.status_code == 404:
            return None
        _raise_for_status(response, f"read process status {process_status_id}")
        body = _json_object(response)
        return _parse_status(body, default_id=process_status_id)

    async def get_process_statuses(self, ids: Sequence[str]) -> BulkResult:
        """Bulk ``POST /shared/process-status`` in chunks of at most 1000 distinct ids."""
        unique = list(dict.fromkeys(_checked_id(i) for i in ids))
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
            "entity-id": _checked_id(entity_id, what="entity id"),
            "event-type": _checked_id(event_type, what="event type"),
            "page": str(page),
        }
        response = await self._call("GET", PROCESS_STATUS_PATH, params=params)
        _raise_for_status(response, f"list {event_type} process statuses of entity {entity_id}")
        return _parse_list(_json_object(response))

    # -- calls -------------------------------------------------------------------
    async def _bulk(self, chunk: list[str]) -> dict[str, ProcessStatus]:
        body = {"processStatusQueries": [{"processStatusId": i} for i in chunk]}
        response = await self._call("POST", PROCESS_STATUS_PATH, json_body=body)
        _raise_for_status(response, f"read {len(chunk)} process statuses")
        return {s.process_status_id: s for s in _parse_list(_json_object(response))}

    async def _call(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json_body: Any = None
    ) -> httpx.Response:
        """A read: retried on 5xx, timeouts and connection errors with exponential backoff."""
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                return await self._rate_limited(method, path, params, json_body)
            except BolUnavailable as failure:
                log.debug("%s %s failed (attempt %d/%d): %s", method, path, attempt, READ_ATTEMPTS, failure)
                if attempt == READ_ATTEMPTS:
                    raise
            await self._sleep(READ_BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _rate_limited(
        self, method: str, path: str, params: Mapping[str, str] | None, json_body: Any
    ) -> httpx.Response:
        """Waits out 429 answers (at most ``max_rate_limit_waits`` times); raises on 5xx."""
        waits = 0
        while True:
            response = await self._authorized(method, path, params, json_body)
            if response.status_code >= 500:
                raise _unavailable(response)
            if response.status_code != 429:
                return response
            if waits >= self._max_rate_limit_waits:
                raise _rate_limited(response, waits)
            delay = _retry_after_seconds(response.headers.get("Retry-After"), self._max_retry_after)
            log.info("bol.com rate limit on %s %s; waiting %.1fs", method, path, delay)
            await self._sleep(delay)
            waits += 1

    async def _authorized(
        self, method: str, path: str, params: Mapping[str, str] | None, json_body: Any
    ) -> httpx.Response:
        """Sends with the bearer token; on 401 fetches a new token once and repeats once."""
        token = await self._auth.token()
        response = await self._send(method, path, params, json_body, token)
        if response.status_code != 401:
            return response
        log.info("bol.com refused the access token (%s); fetching a new one", _problem_text(response))
        token = await self._auth.refresh(rejected=token)
        response = await self._send(method, path, params, json_body, token)
        if response.status_code == 401:
            self._auth.invalidate()
            raise _error(BolAuthError, response, "bol.com refused a freshly fetched access token")
        return response

    async def _send(
        self, method: str, path: str, params: Mapping[str, str] | None, json_body: Any, token: str
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}
        content: bytes | None = None
        if json_body is not None:
            headers["Content-Type"] = MEDIA_TYPE
            content = json.dumps(json_body, separators=(",", ":")).encode()
        await self._pacer.wait()  # rate-limit pacing hook
        try:
            response = await self._http.request(
                method, f"{self._api_url}{path}", params=params, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise BolUnavailable(f"bol.com did not answer within {self._timeout:g}s") from exc
        except httpx.TransportError as exc:
            raise BolUnavailable(f"bol.com is not reachable ({type(exc).__name__})") from exc
        self._pacer.observe(response.headers)  # rate-limit pacing hook
        log.debug("%s %s -> %d", method, path, response.status_code)
        return response


# -- requests -------------------------------------------------------------------------
def _checked_id(value: str, what: str = "process status id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, not {value!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} {value!r} contains control characters")
    return value


def _path_segment(process_status_id: str) -> str:
    checked = _checked_id(process_status_id)
    if checked in {".", ".."}:
        raise ValueError(f"invalid process status id {checked!r}")
    return quote(checked, safe="")


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


# -- errors -----------------------------------------------------------------------------
def _raise_for_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 400:
        raise _error(BolBadRequest, response, f"bol.com rejected the request to {what}")
    raise _error(BolError, response, f"bol.com could not {what} (HTTP {status})")


def _unavailable(response: httpx.Response) -> BolUnavailable:
    status = response.status_code
    return _error(BolUnavailable, response, f"bol.com is unavailable (HTTP {status})")


def _rate_limited(response: httpx.Response, waits: int) -> BolRateLimited:
    message = f"bol.com is still rate limiting us after waiting {waits} time(s); try again later"
    return _error(BolRateLimited, response, message)


def _error(kind: type[E], response: httpx.Response, message: str) -> E:
    """An error of ``kind`` carrying the Problem fields of ``response`` (if it has a Problem body)."""
    problem = json_or_none(response)
    if not isinstance(problem, Mapping):
        problem = {}
    title, detail = _text(problem.get("title")), _text(problem.get("detail"))
    violations = _violations(problem.get("violations"))
    explanation = "; ".join(f"{v.name}: {v.reason}" for v in violations) or detail or title
    return kind(
        f"{message}: {explanation}" if explanation else message,
        status=response.status_code,
        title=title,
        detail=detail,
        violations=violations,
    )


def _violations(raw: Any) -> list[Violation]:
    if not isinstance(raw, list):
        return []
    return [
        Violation(name=_text(v.get("name")) or "", reason=_text(v.get("reason")) or "")
        for v in raw
        if isinstance(v, Mapping)
    ]


def _problem_text(response: httpx.Response) -> str:
    problem = json_or_none(response)
    if isinstance(problem, Mapping):
        return _text(problem.get("detail")) or _text(problem.get("title")) or "no detail"
    return "no detail"


# -- responses ----------------------------------------------------------------------------


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    body = json_or_none(response)
    if not isinstance(body, Mapping):
        raise BolError(
            f"bol.com answered HTTP {response.status_code} without a JSON object", status=response.status_code
        )
    return body


def _parse_list(body: Mapping[str, Any]) -> list[ProcessStatus]:
    """``processStatuses`` of a ProcessStatusResponse; a missing list (bol sends ``{}``) is empty."""
    raw = body.get("processStatuses")
    if not isinstance(raw, list):
        return []
    statuses = []
    for item in raw:
        if not isinstance(item, Mapping) or not _text(item.get("processStatusId")):
            log.warning("skipping a process status without processStatusId from bol.com")
            continue
        statuses.append(_parse_status(item))
    return statuses


def _parse_status(body: Mapping[str, Any], default_id: str | None = None) -> ProcessStatus:
    process_status_id = _text(body.get("processStatusId")) or default_id
    if not process_status_id:
        raise BolError("bol.com sent a process status without processStatusId")
    return ProcessStatus(
        process_status_id=process_status_id,
        event_type=_text(body.get("eventType")) or "",
        description=_text(body.get("description")) or "",
        state=_state(body.get("status"), process_status_id),
        entity_id=_text(body.get("entityId")),
        error_message=_text(body.get("errorMessage")),
        created_at=_timestamp(body.get("createTimestamp")),
        links=_links(body.get("links")),
    )


def _state(raw: Any, process_status_id: str) -> ProcessState:
    try:
        return ProcessState(raw)
    except ValueError:
        log.warning(
            "unknown status %r of process %s from bol.com; treating it as PENDING", raw, process_status_id
        )
        return ProcessState.PENDING


def _timestamp(raw: Any) -> datetime | None:
    """``2018-11-14T09:34:41+01:00`` as an aware datetime (UTC assumed without offset); else None."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _links(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    return [
        {str(k): str(v) for k, v in link.items() if isinstance(v, str | int | float)}
        for link in raw
        if isinstance(link, Mapping)
    ]


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None
