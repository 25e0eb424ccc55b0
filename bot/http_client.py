"""What every outgoing API client here shares: one pooled httpx client, closed with the owner."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx

from bot.backend.responses import json_or_none

__all__ = ["OwnsHttpClient", "json_or_none"]


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
