"""Commerce's refusals (``{"errors": [{errorKey, errorCode, errorMessage}]}``) as typed errors.

Invariant: an error keeps Commerce's own ``errorMessage`` (and key and code) when Commerce sent
one, and a plain sentence naming the failed action otherwise; nothing else from the body (never
a request echo) goes into the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bot.backend import responses
from bot.commerce.errors import (
    ApprovalNotFound,
    ApprovalRejectedByCommerce,
    CommerceAuthError,
    CommerceError,
    CommerceForbidden,
    CommerceUnavailable,
)
from bot.commerce.wire import text

EXPIRED_SESSION_CODES = frozenset({"CWXFR0223E", "_ERR_ACTIVITY_TOKEN", "CWXBB1103E", "CWXBB1011E"})
"""errorCode/errorKey values Commerce uses for an expired or invalid session."""


def session_expired(response: httpx.Response) -> bool:
    """401, or a 400/403 whose first error names an expired or invalid session."""
    if response.status_code == 401:
        return True
    error = _first_error(responses.json_or_none(response)) if response.status_code in (400, 403) else None
    return error is not None and bool(
        {text(error.get("errorCode")), text(error.get("errorKey"))} & EXPIRED_SESSION_CODES
    )


def from_errors_body(cls: type[CommerceError], body: Any, status: int | None, default: str) -> CommerceError:
    """An error of type ``cls`` carrying Commerce's own errorMessage when there is one."""
    error = _first_error(body)
    if error is None:
        return cls(default, status=status)
    return cls(
        text(error.get("errorMessage")) or default,
        status=status,
        error_key=text(error.get("errorKey")),
        error_code=text(error.get("errorCode")),
    )


def from_response(cls: type[CommerceError], response: httpx.Response, default: str) -> CommerceError:
    """:func:`from_errors_body` for the body and status of ``response``."""
    return from_errors_body(cls, responses.json_or_none(response), response.status_code, default)


def unavailable(response: httpx.Response) -> CommerceUnavailable:
    """A 5xx answer: ``Commerce answered 503`` plus Commerce's message when it sent one."""
    error = _first_error(responses.json_or_none(response)) or {}
    detail = text(error.get("errorMessage"))
    return CommerceUnavailable(
        f"Commerce answered {response.status_code}" + (f": {detail}" if detail else ""),
        status=response.status_code,
        error_key=text(error.get("errorKey")),
        error_code=text(error.get("errorCode")),
    )


def error_for(
    response: httpx.Response,
    *,
    what: str,
    bad_request: type[CommerceError] = CommerceError,
    not_found: type[CommerceError] = ApprovalNotFound,
) -> CommerceError:
    """Map a 4xx answer on an approval call to the typed error, keeping Commerce's message."""
    status = response.status_code
    classes: dict[int, type[CommerceError]] = {
        400: bad_request,
        401: CommerceAuthError,
        403: CommerceForbidden,
        404: not_found,
    }
    cls = classes.get(status, CommerceError)
    return from_response(cls, response, f"Commerce could not {what} (HTTP {status}).")


def decision_message(response: httpx.Response, approval_id: str) -> str:
    """Commerce's ``resultmsg`` for an accepted decision (``''`` if none).

    Raises :class:`ApprovalRejectedByCommerce` when a 2xx answer still carries ``errors`` or
    ``viewTaskName: approvalsFailed``.
    """
    body = responses.json_or_none(response)
    if not isinstance(body, Mapping):
        return ""
    message = text(body.get("resultmsg")) or ""
    if body.get("errors"):
        default = message or f"Commerce refused the decision on approval {approval_id}."
        raise from_errors_body(ApprovalRejectedByCommerce, body, response.status_code, default)
    if body.get("viewTaskName") == "approvalsFailed":
        raise ApprovalRejectedByCommerce(
            message or f"Commerce did not accept the decision on approval {approval_id}.",
            status=response.status_code,
        )
    return message


def _first_error(body: Any) -> Mapping[str, Any] | None:
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            return errors[0]
    return None
