"""Messages about bol.com process statuses."""

from __future__ import annotations

from bot.bol.models import ENTITY_PAGE_SIZE, ProcessState, ProcessStatus
from bot.slack.outbound.blocks.text import (
    EN_DASH,
    MAX_MESSAGE_BLOCKS,
    channel_mention,
    code,
    context,
    escape,
    fallback,
    fields_section,
    maybe_date,
    pack_lines,
    quote,
    section,
    user_mention,
)
from bot.slack.outbound.blocks.types import Block, Message

STATE_EMOJI = {
    ProcessState.SUCCESS: "✅",
    ProcessState.FAILURE: "❌",
    ProcessState.TIMEOUT: "⌛",
    ProcessState.PENDING: "🔄",
}
STATE_WORDS = {
    ProcessState.SUCCESS: "succeeded",
    ProcessState.FAILURE: "failed",
    ProcessState.TIMEOUT: "timed out",
    ProcessState.PENDING: "is still pending",
}


def _headline(status: ProcessStatus) -> str:
    description = escape(status.description) if status.description else escape(status.event_type)
    return f"{STATE_EMOJI[status.state]} *{status.state.value}*: {description}"


def process_status_message(status: ProcessStatus, *, watched_by: str | None = None) -> Message:
    """One process status: state, what it was, and bol's error message when it failed.

    ``watched_by`` (a Slack user id) credits whoever asked to be told, on the notifier's announcement.
    """
    blocks: list[Block] = [
        section(_headline(status)),
        fields_section(
            [
                ("Event type", code(status.event_type)),
                ("Entity id", code(status.entity_id) if status.entity_id else EN_DASH),
                ("Process id", code(status.process_status_id)),
                ("Created", maybe_date(status.created_at)),
            ]
        ),
    ]
    if status.error_message and status.error_message.strip():
        blocks.append(section(f"*Error from bol.com*\n{quote(status.error_message.strip())}"))
    if watched_by:
        blocks.append(context(f"Watched by {user_mention(watched_by)}"))
    entity = f" for {escape(status.entity_id)}" if status.entity_id else ""
    text = (
        f"{STATE_EMOJI[status.state]} {escape(status.event_type)}{entity} {STATE_WORDS[status.state]} "
        f"({status.state.value}, process {escape(status.process_status_id)})"
    )
    return fallback(text), blocks


def process_purged_message(process_status_id: str) -> Message:
    """bol.com no longer knows the id (purged or never existed): the watch has ended."""
    text = (
        f"🗑️ bol.com no longer knows process status {code(process_status_id)} "
        "(it has been purged); the watch has ended without a final state."
    )
    return fallback(f"Process status {escape(process_status_id)} is no longer known to bol.com"), [
        section(text)
    ]


def _list_line(status: ProcessStatus) -> str:
    line = (
        f"{STATE_EMOJI[status.state]} {code(status.process_status_id)} *{status.state.value}* "
        f"{escape(status.event_type)} · {escape(status.description) or EN_DASH} · "
        f"{maybe_date(status.created_at)}"
    )
    if status.error_message and status.error_message.strip():
        line += f"\n      _{escape(status.error_message.strip())}_"
    return line


def process_status_list(
    statuses: list[ProcessStatus], *, entity_id: str, event_type: str, page: int
) -> Message:
    """``/process-status entity``: one line per status and the next page's command when the page is full."""
    title = f"*Process statuses* for entity {code(entity_id)} · {escape(event_type)} · page {page}"
    if not statuses:
        text = f"No process statuses for entity {escape(entity_id)} and {escape(event_type)} on page {page}."
        return fallback(text), [section(text)]
    blocks: list[Block] = [section(title)]
    blocks.extend(pack_lines([_list_line(s) for s in statuses], max_blocks=MAX_MESSAGE_BLOCKS - 3))
    notes = [f"{len(statuses)} on this page"]
    if len(statuses) >= ENTITY_PAGE_SIZE:
        notes.append(
            f"Next page: `/process-status entity {escape(entity_id)} {escape(event_type)} {page + 1}`"
        )
    blocks.append(context(*notes))
    return fallback(
        f"{len(statuses)} process status(es) for {escape(entity_id)} ({escape(event_type)})"
    ), blocks


def watch_confirmation(process_status_id: str, channel: str, current: ProcessStatus | None) -> Message:
    """Ephemeral answer to ``watch``: where the result will be posted, and the state right now."""
    where = channel_mention(channel)
    lines = [f"👀 Watching process status {code(process_status_id)}; the result will be posted in {where}."]
    if current is not None:
        if current.state.is_final:
            lines.append(f"It has already finished ({_headline(current)}); the result is posted shortly.")
        else:
            lines.append(f"Right now: {_headline(current)}")
    blocks: list[Block] = [section("\n".join(lines))]
    if current is not None:
        blocks.append(
            context(
                f"Event type {code(current.event_type)}"
                + (f" · entity {code(current.entity_id)}" if current.entity_id else "")
                + " · stop with `/process-status unwatch "
                + escape(process_status_id)
                + "`"
            )
        )
    return fallback(f"Watching process status {escape(process_status_id)}"), blocks


def follow_confirmation(entity_id: str, event_type: str, channel: str) -> Message:
    """Ephemeral answer to ``follow``: what is followed and where its processes will be posted."""
    text = (
        f"👀 Following {escape(event_type)} processes of entity {code(entity_id)}; each one that finishes "
        f"from now on is posted in {channel_mention(channel)}. Stop with "
        f"`/process-status unfollow {escape(entity_id)} {escape(event_type)}`."
    )
    return fallback(f"Following {escape(event_type)} processes of {escape(entity_id)}"), [section(text)]
