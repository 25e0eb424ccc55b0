"""Typed errors for the bol.com client, built from Problem JSON bodies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    name: str
    reason: str


class BolError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        violations: list[Violation] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
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
