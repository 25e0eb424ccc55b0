"""What every outgoing API client here shares: one pooled httpx client, closed with the owner."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx


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


def json_or_none(response: httpx.Response) -> Any:
    """The response's JSON body, or ``None`` when it has none (an HTML error page, an empty body)."""
    try:
        return response.json()
    except ValueError:
        return None
