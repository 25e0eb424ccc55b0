"""The one error base of every backend client; callers catch it to handle any backend failure.

Hierarchy (each backend's ``errors`` module lists its own branch)::

    BackendError                  .message, .status
    ├── CommerceError             bot.commerce.errors (+ .error_key, .error_code)
    └── BolError                  bot.bol.errors (+ .title, .detail, .violations)

Invariant: ``message`` is safe to show and log; it never carries a password, secret or token.
"""

from __future__ import annotations


class BackendError(Exception):
    """A backend answered with an error, an unexpected body, or not at all.

    ``status`` is the HTTP status of the answer, ``None`` when there was no answer.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
