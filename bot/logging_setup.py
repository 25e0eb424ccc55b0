"""Logging configuration: one line per event, secrets masked before anything is written.

Plain text by default; ``json`` writes one JSON object per line with the ids of what the event is
about (``log_context`` or ``extra=``) as fields of their own.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

TOKEN_PATTERN = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+)"
)
MASK = "***"
RESPONSE_URL_PATTERN = re.compile(r"(https://hooks\.slack(?:-gov)?\.com/)[^\s\"'<>|\\]+")
"""A ``response_url`` (or webhook): a 30-minute capability to post as the bot, masked like a token."""


class SecretMaskingFilter(logging.Filter):
    """Replaces Slack tokens, bearer tokens, response URLs and every configured secret value in log
    records; ``mask`` does the same for any text a user sees (Slack answers, ``check`` lines)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = RESPONSE_URL_PATTERN.sub(rf"\g<1>{MASK}", text)
        return TOKEN_PATTERN.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if masked != message or record.args:
            record.msg = masked
            record.args = None
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, self.mask(value))
        return True


# -- context fields ---------------------------------------------------------------------------------

CONTEXT_FIELDS = ("approval_id", "process_status_id", "slack_user")
"""Record attributes written as JSON fields when a log call (``extra=``) or ``log_context`` sets them."""

_context: ContextVar[Mapping[str, str]] = ContextVar("log_context", default=MappingProxyType({}))


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Adds ``fields`` (those not ``None``) to every record logged inside the block, by this task and
    the tasks it starts; ``extra=`` on a log call wins over them."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the ``log_context`` fields onto each record (before the secrets are masked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC), level, logger, message, context fields, exception."""

    def __init__(self, static: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **self._static,
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


# alembic: its plugins and dialect at INFO on every start (bot.storage.migrations logs the upgrades).
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "slack_sdk",
    "slack_bolt",
    "aiohttp.access",
    "asyncio",
    "sqlalchemy",
    "alembic",
)


def configure_logging(
    level: str,
    secrets: Iterable[str] = (),
    *,
    log_format: str = "text",
    static_fields: Mapping[str, str] | None = None,
) -> None:
    """``static_fields`` (e.g. the replica) go into every JSON line; text lines stay as they are."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(static_fields))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ContextFilter())
    handler.addFilter(SecretMaskingFilter(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    library_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
