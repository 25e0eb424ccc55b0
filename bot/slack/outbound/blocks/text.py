"""Text helpers for Block Kit: the one place that escapes, truncates and formats times.

Every piece of text that comes from a user or a remote system goes through ``escape()`` before it
is put into a ``mrkdwn`` text object, so ``<!channel>``, ``<@U…>`` or ``<http://evil|link>`` typed
into Commerce or Slack can never ping anybody or become a link. Every ``mrkdwn`` object is
``verbatim``, so Slack does not turn bare URLs, channel names or a plain ``@channel`` into links or
pings either; only the references the bot writes itself (``<@U…>``, ``<!date…>``) stay live.
``plain_text`` objects are not parsed by Slack, so they are truncated but not escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.slack.outbound.blocks.types import Block

SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
MAX_FIELDS = 10
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
HEADER_TEXT_LIMIT = 150
CONTEXT_TEXT_LIMIT = 2000
MAX_CONTEXT_ELEMENTS = 10
CONFIRM_TITLE_LIMIT = 100
CONFIRM_TEXT_LIMIT = 300
CONFIRM_BUTTON_LIMIT = 30
MODAL_TITLE_LIMIT = 24
FALLBACK_TEXT_LIMIT = 3000
MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100

ELLIPSIS = "\u2026"
EN_DASH = "\u2013"

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")
_SAFE_REFERENCE = re.compile(r"<([@#])([A-Za-z0-9_]{1,40})>|<!date\^\d{1,12}\^[^|<>]{1,60}\|[^<>]{1,60}>")


def escape(text: object) -> str:
    """Escapes ``&``, ``<`` and ``>`` so Slack shows the text as typed and never as a mention or link."""
    return str(text).translate(_ESCAPES)


def escape_keeping_references(text: str) -> str:
    """Like ``escape()`` but keeps plain user/channel mentions (``<@U123>``, ``<#C123>``) and dates.

    For messages written by the bot itself that may embed a remote error text: special mentions
    (``<!channel>``), links and everything else are still neutralised.
    """
    out: list[str] = []
    position = 0
    for match in _SAFE_REFERENCE.finditer(text):
        out.append(escape(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)


def truncate(text: str, limit: int) -> str:
    """Shortens ``text`` to at most ``limit`` characters, ending in "…".

    Never cuts an escape entity (``&amp;``) or a Slack reference (``<@U1>``, ``<!date…>``) in half.
    """
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    cut = _PARTIAL_ENTITY.sub("", cut)
    opening = cut.rfind("<")
    if opening > cut.rfind(">"):
        cut = cut[:opening]
    return cut + ELLIPSIS


def user_mention(user_id: str) -> str:
    """``<@U123>`` for a well-formed user id; anything else is shown escaped, never as a mention."""
    return f"<@{user_id}>" if _SAFE_ID.match(user_id) else escape(user_id)


def channel_mention(channel_id: str) -> str:
    return f"<#{channel_id}>" if _SAFE_ID.match(channel_id) else escape(channel_id)


def code(value: str) -> str:
    """Inline code for ids; backticks inside are dropped so the span cannot be broken out of."""
    cleaned = escape(value).replace("`", "'")
    return f"`{cleaned}`" if cleaned else "` `"


def slack_date(moment: datetime) -> str:
    """``<!date^EPOCH^{date_short_pretty} {time}|ISO>``: shown in each reader's own time zone."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    epoch = int(aware.timestamp())
    fallback = aware.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


def maybe_date(moment: datetime | None, *, unknown: str = "unknown") -> str:
    return slack_date(moment) if moment is not None else unknown


def quote(text: str) -> str:
    """A mrkdwn block quote of (escaped) ``text``, line by line."""
    lines = escape(text).splitlines() or [""]
    return "\n".join(f"> {line}" for line in lines)


# -- text objects --------------------------------------------------------------------------------


def mrkdwn(text: str, limit: int = SECTION_TEXT_LIMIT) -> Block:
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


# -- blocks ----------------------------------------------------------------------------------------


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_LIMIT)}


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def fields_section(pairs: Iterable[tuple[str, str]]) -> Block:
    """A section of ``*label*\\nvalue`` fields (at most 10, each within Slack's 2000 characters)."""
    fields = [mrkdwn(f"*{label}*\n{value}", FIELD_TEXT_LIMIT) for label, value in pairs]
    return {"type": "section", "fields": fields[:MAX_FIELDS]}


def context(*texts: str) -> Block:
    elements = [mrkdwn(text, CONTEXT_TEXT_LIMIT) for text in texts if text]
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


def divider() -> Block:
    return {"type": "divider"}


def fallback(text: str) -> str:
    """Notification text (already escaped by the caller) kept to a sensible size."""
    return truncate(text, FALLBACK_TEXT_LIMIT)


def pack_lines(lines: list[str], *, max_blocks: int) -> list[Block]:
    """One section per line when they fit in ``max_blocks``; otherwise lines share sections.

    Lines are joined greedily up to Slack's 3000-character section limit so a long list stays
    within the message's block budget.
    """
    if len(lines) <= max_blocks:
        return [section(line) for line in lines]
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    for raw_line in lines:
        line = truncate(raw_line, SECTION_TEXT_LIMIT)
        added = len(line) + (1 if current else 0)
        if current and size + added > SECTION_TEXT_LIMIT:
            blocks.append(section("\n".join(current)))
            current, size = [], 0
            added = len(line)
        current.append(line)
        size += added
    if current:
        blocks.append(section("\n".join(current)))
    return blocks[:max_blocks]
