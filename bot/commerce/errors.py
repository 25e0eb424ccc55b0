"""Typed errors for the Commerce client, carrying Commerce's own message.

Hierarchy::

    BackendError                      bot.backend.errors: .message, .status
    └── CommerceError                 + .error_key, .error_code (first of Commerce's ``errors``)
        ├── CommerceUnavailable       timeout, connection error, 5xx (reads: after retries)
        ├── CommerceAuthError         login failed, or session still refused after a new login
        ├── CommerceNotTheApi         the login URL answered, but not as Commerce's REST API
        ├── CommerceForbidden         403
        ├── ApprovalNotFound          404 or empty resultList on approval_status
        ├── OrderNotFound             404 on order/{orderId}
        └── ApprovalRejectedByCommerce  the decision POST was refused (400, approvalsFailed)

Invariant: no message carries the password or a WCToken/WCTrustedToken.
"""

from __future__ import annotations

from bot.backend.errors import BackendError


class CommerceError(BackendError):
    """Commerce answered with an error (``{"errors": [...]}``) or an unexpected body."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_key: str | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.error_key = error_key
        self.error_code = error_code


class CommerceUnavailable(CommerceError):
    """Commerce could not be reached, timed out, or answered 5xx (after retries for reads)."""


class CommerceAuthError(CommerceError):
    """Login failed, or the session stayed invalid after logging in again."""


class CommerceNotTheApi(CommerceError):
    """``COMMERCE_BASE_URL`` answers, but not as Commerce's REST API (an HTML page, no login resource):
    a wrong URL, not a refused login, so logins are not paused for it."""


class CommerceForbidden(CommerceError):
    """The Commerce user may not do this (403)."""


class ApprovalNotFound(CommerceError):
    """No approval_status record with that id (404, or an empty resultList)."""


class OrderNotFound(CommerceError):
    """No order with that id (404 on ``GET /store/{storeId}/order/{orderId}``)."""


class ApprovalRejectedByCommerce(CommerceError):
    """The update POST returned ``viewTaskName: approvalsFailed`` or a 400."""
