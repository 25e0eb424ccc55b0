"""Typed errors for the bol.com client, built from Problem JSON bodies.

Hierarchy::

    BackendError              bot.backend.errors: .message, .status
    └── BolError              + .title, .detail, .violations (of the Problem body); other 4xx
        ├── BolUnavailable    timeout, connection error, 5xx (after retries)
        ├── BolAuthError      credentials refused, or a fresh token still refused
        ├── BolRateLimited    still 429 after the bounded waits
        └── BolBadRequest     400 with a Problem body

Invariant: no message carries the client secret or an access token.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.backend.errors import BackendError


@dataclass(frozen=True)
class Violation:
    name: str
    reason: str


class BolError(BackendError):
    """bol.com answered with an error (a Problem body when it sent one) or an unexpected body."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        violations: list[Violation] | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.title = title
        self.detail = detail
        self.violations = violations or []


class BolUnavailable(BolError):
    """bol.com could not be reached, timed out, or answered 5xx."""


class BolAuthError(BolError):
    """The token endpoint refused the client credentials, or a fresh token was still refused."""


class BolRateLimited(BolError):
    """Still 429 after the bounded number of waits."""


class BolBadRequest(BolError):
    """400 with a Problem body (e.g. an unknown event type)."""
