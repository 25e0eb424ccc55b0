"""The live card of a process batch, its thread replies, and the ``/process-status batches`` list."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.slack.outbound.blocks.text import (
    EN_DASH,
    code,
    context,
    escape,
    fallback,
    fields_section,
    quote,
    section,
    slack_date,
    truncate,
    user_mention,
)
from bot.slack.outbound.blocks.types import Block, Message
from bot.storage.records import BatchView, FinishedMember, MemberState

BAR_CELLS = 20
ERROR_LINE_LIMIT = 300
MEMBER_EMOJI = {
    MemberState.SUCCESS: "✅",
    MemberState.FAILURE: "❌",
    MemberState.TIMEOUT: "⌛",
    MemberState.PENDING: "🔄",
    MemberState.PURGED: "🗑️",
}
MEMBER_WORDS = {
    MemberState.SUCCESS: "succeeded",
    MemberState.FAILURE: "failed",
    MemberState.TIMEOUT: "timed out",
    MemberState.PENDING: "is pending",
    MemberState.PURGED: "is no longer known to bol.com (purged)",
}


def mention(user_or_group: str) -> str:
    """``<@U…>`` for a user, ``<!subteam^S…>`` for a user group."""
    if user_or_group.startswith("S") and user_or_group.replace("_", "").isalnum():
        return f"<!subteam^{user_or_group}>"
    return user_mention(user_or_group)


def duration(span: timedelta) -> str:
    """``1h 02m``, ``12m 05s``, ``45s``."""
    seconds = max(0, int(span.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def progress_bar(done: int, total: int) -> str:
    share = done / total if total else 1.0
    filled = round(share * BAR_CELLS)
    return f"`{'█' * filled}{'░' * (BAR_CELLS - filled)}` {share:.0%}"


def batch_title(view: BatchView) -> str:
    """``offer upload 2026-11-23`` or ``Batch 1a2b3c4d`` (escaped)."""
    return escape(view.batch.label) if view.batch.label else f"Batch {view.batch.batch_id[:8]}"


def _failure_line(member: FinishedMember) -> str:
    entity = f" · entity {code(member.entity_id)}" if member.entity_id else ""
    error = (
        escape(truncate(member.error_message.strip(), ERROR_LINE_LIMIT)) if member.error_message else EN_DASH
    )
    return f"{MEMBER_EMOJI[member.state]} {code(member.process_status_id)}{entity}: {error}"


def batch_card(
    view: BatchView,
    *,
    now: datetime,
    failure_mention: str | None = None,
    stuck_after: timedelta | None = None,
) -> Message:
    """The batch's one message: counts per state, a progress bar, time, and the first failures."""
    batch = view.batch
    headline = f"{batch_title(view)} {EN_DASH} {view.finished}/{view.total} finished"
    blocks: list[Block] = [
        section(f"*{headline}*\n{progress_bar(view.finished, view.total)}"),
        fields_section(
            (
                f"{MEMBER_EMOJI[state]} {state.value if state is not MemberState.PURGED else 'purged'}",
                str(count),
            )
            for state, count in view.counts.items()
        ),
    ]
    if view.stuck:
        since = f" for more than {duration(stuck_after)}" if stuck_after else ""
        blocks.append(section(f"⚠️ *{view.stuck} stuck*: still pending{since}"))
    if view.failures:
        lines = "\n".join(_failure_line(m) for m in view.failures)
        more = view.failed - len(view.failures)
        tail = f"\n…and {more} more in the thread" if more > 0 else ""
        blocks.append(section(f"*First failures*\n{lines}{tail}"))
    if batch.completed_at is not None:
        status = f"✅ Complete in {duration(batch.completed_at - batch.created_at)}"
        if view.failed and failure_mention:
            status += f" · {view.failed} failed, {mention(failure_mention)}"
    else:
        status = f"Started {slack_date(batch.created_at)} · elapsed {duration(now - batch.created_at)}"
    blocks.append(context(status, f"batch {code(batch.batch_id)} · thread replies: {batch.notify.value}"))
    text = headline + (" (complete)" if batch.completed_at is not None else "")
    return fallback(text), blocks


def batch_reply(member: FinishedMember) -> Message:
    """A reply in the card's thread about one finished process."""
    what = escape(member.event_type) if member.event_type else "Process"
    entity = f" for entity {code(member.entity_id)}" if member.entity_id else ""
    process = f"(process {code(member.process_status_id)})"
    line = f"{MEMBER_EMOJI[member.state]} {what}{entity} {MEMBER_WORDS[member.state]} {process}"
    blocks: list[Block] = [section(line)]
    if member.error_message and member.error_message.strip():
        blocks.append(section(f"*Error from bol.com*\n{quote(member.error_message.strip())}"))
    return fallback(line), blocks


def batch_summary(view: BatchView, *, failure_mention: str | None) -> Message:
    """The reply that ends a batch with failures (mentioning whoever should look at them)."""
    batch = view.batch
    took = duration(batch.completed_at - batch.created_at) if batch.completed_at else EN_DASH
    who = f"{mention(failure_mention)} " if failure_mention else ""
    line = (
        f"{who}{batch_title(view)} is complete after {took}: "
        f"{view.failed} of {view.total} failed or timed out."
    )
    return fallback(line), [section(line)]


def batch_list(views: list[BatchView], *, now: datetime) -> Message:
    """``/process-status batches``: the recent batches with their counts."""
    if not views:
        text = (
            "No batches yet. `/process-status watch` makes one of one; other systems hand them in"
            " through the API or `approvals-bot watch`."
        )
        return fallback(text), [section(text)]
    lines = []
    for view in views:
        counts = " · ".join(f"{MEMBER_EMOJI[state]} {count}" for state, count in view.counts.items() if count)
        done = (
            "complete"
            if view.batch.completed_at is not None
            else f"{duration(now - view.batch.created_at)} so far"
        )
        lines.append(
            f"*{batch_title(view)}* {EN_DASH} {view.finished}/{view.total} finished ({done})\n      {counts}"
            f" · <#{view.batch.channel}> · {code(view.batch.batch_id)}"
        )
    blocks: list[Block] = [section("*Recent batches*"), *[section(line) for line in lines]]
    return fallback(f"{len(views)} recent batch(es)"), blocks
