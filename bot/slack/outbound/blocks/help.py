"""Help for both slash commands, and ephemeral error messages."""

from __future__ import annotations

import functools

from bot.bol.models import EVENT_TYPES
from bot.slack.outbound.blocks.text import context, escape, escape_keeping_references, fallback, section
from bot.slack.outbound.blocks.types import Block, Message

APPROVALS_USAGE: tuple[tuple[str, str], ...] = (
    (
        "/approvals list [orders|buyers|all] [status=pending|approved|rejected|any] [first=NAME] [last=NAME] "
        "[from=YYYY-MM-DD] [to=YYYY-MM-DD] [page=N] [size=1..100] [sort=newest|oldest]",
        "List approval requests (default: all kinds, pending, newest first, 10 per page). "
        'e.g. `/approvals list orders from=2026-01-01 first="Anne Marie"`',
    ),
    ("/approvals show <id>", "Show one approval request; approvers get Approve/Reject buttons."),
    ("/approvals approve <id> [comment]", "Approve a request, e.g. `/approvals approve 12345 fine by me`"),
    (
        "/approvals reject <id> <reason>",
        "Reject a request; a reason is required, e.g. `/approvals reject 12345 over budget`",
    ),
    ("/approvals digest", "Today's digest: what waits, what was decided yesterday, process failures."),
    ("/approvals whoami", "Which Commerce user you are linked to, and what you may decide."),
    ("/approvals help", "This help."),
)

PROCESS_STATUS_USAGE: tuple[tuple[str, str], ...] = (
    ("/process-status <id>", "Show one bol.com process status, e.g. `/process-status 1234567`"),
    (
        "/process-status watch <id>",
        "Post the result in this channel when the process finishes "
        "(direct messages use the default channel).",
    ),
    ("/process-status unwatch <id>", "Stop watching a process status."),
    (
        "/process-status entity <entity-id> <EVENT_TYPE> [page]",
        "List process statuses of one entity, 50 per page, "
        "e.g. `/process-status entity 987654321 CREATE_SHIPMENT`",
    ),
    (
        "/process-status follow <entity-id> <EVENT_TYPE>",
        "Post here every process of that entity and event type that finishes from now on (`unfollow` stops).",
    ),
    ("/process-status unfollow <entity-id> <EVENT_TYPE>", "Stop following an entity."),
    ("/process-status batches", "Recent batches handed in by other systems, with their counts."),
    ("/process-status help", "This help."),
)


def _help(title: str, usage: tuple[tuple[str, str], ...], error: str | None, extra: str | None) -> Message:
    if not error:
        return _plain_help(title, usage, extra)
    blocks = [section(f"⚠️ {escape(error)}"), *_usage_blocks(title, usage, extra)]
    return fallback(f"⚠️ {escape(error)}"), blocks


@functools.cache
def _plain_help(title: str, usage: tuple[tuple[str, str], ...], extra: str | None) -> Message:
    """Help without an error never changes: built once (it was a fifth of the loop's CPU under load).
    Shared between answers, so never to be changed by a caller."""
    return fallback(title), list(_usage_blocks(title, usage, extra))


@functools.cache
def _usage_blocks(title: str, usage: tuple[tuple[str, str], ...], extra: str | None) -> tuple[Block, ...]:
    lines = [f"*{title}*"]
    lines.extend(f"• `{escape(command)}`\n    {escape_keeping_references(text)}" for command, text in usage)
    blocks: list[Block] = [section("\n".join(lines))]
    if extra:
        blocks.append(context(extra))
    return tuple(blocks)


def approvals_help(error: str | None = None) -> Message:
    return _help("How to use /approvals", APPROVALS_USAGE, error, None)


def process_status_help(error: str | None = None) -> Message:
    return _help("How to use /process-status", PROCESS_STATUS_USAGE, error, _EVENT_TYPES_LINE)


_EVENT_TYPES_LINE = "Event types: " + ", ".join(f"`{t}`" for t in EVENT_TYPES)


def notice(text: str) -> Message:
    """An ephemeral answer written by the bot. Plain user/channel mentions (``<@U1>``, ``<#C1>``) stay
    clickable; everything else (remote error texts, ``<!channel>``, links) is escaped."""
    shown = escape_keeping_references(text)
    return fallback(shown), [section(shown)]


def error_message(text: str) -> Message:
    """An ephemeral error: a :func:`notice` with a warning sign."""
    return notice(f"⚠️ {text}")
