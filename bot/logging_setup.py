"""Logging configuration: one line per event, secrets masked before anything is written."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

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
        return True


NOISY_LOGGERS = ("httpx", "httpcore", "slack_sdk", "slack_bolt", "aiohttp.access", "asyncio", "sqlalchemy")


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMaskingFilter(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    library_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
