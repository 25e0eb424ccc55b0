"""Reading backend answers: the JSON body, and the scalar coercions both clients apply to it.

Invariant: these never raise on odd input except :func:`json_object`, which raises the caller's
error type; everything else turns what it cannot read into ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bot.backend.errors import BackendError


def json_or_none(response: httpx.Response) -> Any:
    """The response's JSON body, or ``None`` when it has none (an HTML error page, an empty body)."""
    try:
        return response.json()
    except ValueError:
        return None


def json_object(response: httpx.Response, error: type[BackendError], message: str) -> Mapping[str, Any]:
    """The response's JSON object; raises ``error(message)`` with the status for anything else."""
    body = json_or_none(response)
    if not isinstance(body, Mapping):
        raise error(message, status=response.status_code)
    return body


def text(value: Any) -> str | None:
    """A JSON string as is, a JSON number as its text; ``None`` for anything else (booleans too)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None
