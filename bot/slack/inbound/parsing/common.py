"""What both command parsers share: the help command, the invalid-input signal, and Slack text as words."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date

from bot.limits import COMMENT_MAX_LENGTH

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ECHO_LIMIT = 40
MAX_PAGE = 10_000
HELP_WORDS = ("help", "-h", "--help", "?")

_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"})
_SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_FALLBACK_TOKEN = re.compile(r'(?:[^\s"]|"[^"]*"|")+')


@dataclass(frozen=True)
class ShowHelp:
    """Answer with the command's help; ``error`` (when given) says what was wrong with the input."""

    error: str | None = None


class InvalidInput(Exception):
    """Carries the user-facing message out of nested parsing; never leaves a parser."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def echo(value: str) -> str:
    """A user value quoted for an error message, shortened so errors stay readable."""
    shown = value if len(value) <= ECHO_LIMIT else value[: ECHO_LIMIT - 1] + "…"
    return f"'{shown}'"


def normalise(text: str) -> str:
    """Slack sends ``&``, ``<``, ``>`` as entities; smart quotes come from phones and Macs."""
    for entity, char in _SLACK_ENTITIES:
        text = text.replace(entity, char)
    return text.translate(_SMART_QUOTES).strip()


def tokens(text: str) -> list[str]:
    """Shell-like words (``first="Anne Marie"`` is one word); unbalanced quotes don't fail."""
    try:
        return shlex.split(text)
    except ValueError:
        return [token.replace('"', "") for token in _FALLBACK_TOKEN.findall(text)]


def split_first(text: str) -> tuple[str, str]:
    """The first word and the rest, both stripped; ``("", "")`` for blank text."""
    parts = text.split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def comment(text: str, what: str) -> str:
    """A free-text comment or reason, unquoted; too long is invalid."""
    text = unquote(text)
    if len(text) > COMMENT_MAX_LENGTH:
        raise InvalidInput(f"The {what} is too long ({len(text)} characters; at most {COMMENT_MAX_LENGTH})")
    return text


def whole_number(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not value.isascii() or not low <= int(value) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}, got {echo(value)}")
    return int(value)


def iso_date(name: str, value: str) -> date:
    if ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{name} must be a date like 2026-01-31, got {echo(value)}")
