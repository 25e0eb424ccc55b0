"""The HTTP side every backend client shares: one pooled httpx client, closed with its owner, behind a
bound on requests in flight to that backend, shared by every caller in the process.

Requests beyond the bound wait here, in arrival order, instead of in httpcore's connection pool
(whose scheduling cost grows with connections times queued requests). A slot is held until the
response body is in.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

DEFAULT_MAX_CONCURRENT_REQUESTS = 16


@dataclass(frozen=True)
class HttpOptions:
    """How a backend client talks HTTP: the timeout of one request, the bound on requests in flight,
    and (for tests and proxies) the transport underneath."""

    timeout: float = 10.0
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS
    transport: httpx.AsyncBaseTransport | None = None


DEFAULT_HTTP = HttpOptions()


class BoundedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._inner = inner
        self._slots = asyncio.Semaphore(limit)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self._slots:
            response = await self._inner.handle_async_request(request)
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def bounded_transport(inner: httpx.AsyncBaseTransport | None, limit: int) -> BoundedTransport:
    """``inner`` (or a pooled HTTP transport with ``limit`` connections) behind a ``limit`` bound."""
    if inner is None:
        inner = httpx.AsyncHTTPTransport(verify=verified_tls(), limits=httpx.Limits(max_connections=limit))
    return BoundedTransport(inner, limit)


@functools.cache
def verified_tls() -> ssl.SSLContext:
    """The TLS context of every backend transport: httpx's default (certifi's CA bundle, or the one
    ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` names), made once. Each context loads and parses the whole
    bundle, tens of milliseconds of a start-up; the contexts would all be the same."""
    return httpx.create_ssl_context()


class OwnsHttpClient:
    """Gives a client ``async with`` support and ``aclose()`` for its ``_http`` connection pool."""

    _http: httpx.AsyncClient

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
