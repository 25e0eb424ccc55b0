"""The daily digest: what waits, what was decided yesterday and by whom, which processes failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.slack.outbound.blocks.followups import SUMMARY_LINES, Waiting, waited
from bot.slack.outbound.blocks.text import (
    MAX_MESSAGE_BLOCKS,
    code,
    context,
    escape,
    fallback,
    header,
    pack_lines,
    section,
    user_mention,
)
from bot.slack.outbound.blocks.types import Block, Message


@dataclass(frozen=True)
class DecidedBy:
    """One approver's decisions of a day."""

    slack_user_id: str
    approved: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class FailedProcess:
    process_status_id: str
    state: str
    watched_by: str


def _waiting_line(item: Waiting) -> str:
    what = f"<{item.link}|approval {escape(item.approval_id)}>" if item.link else code(item.approval_id)
    return f"• {what}, waiting {waited(item.waited)}"


def _decided_line(who: DecidedBy) -> str:
    parts = [
        f"{count} {word}" for count, word in ((who.approved, "approved"), (who.rejected, "rejected")) if count
    ]
    return f"• {user_mention(who.slack_user_id)}: {', '.join(parts)}"


def _failed_line(process: FailedProcess) -> str:
    watcher = user_mention(process.watched_by)
    return f"• {code(process.process_status_id)} ended in {escape(process.state)} (watched by {watcher})"


def _more(lines: list[str], total: int) -> list[str]:
    return [*lines, f"…and {total - len(lines)} more."] if total > len(lines) else lines


def daily_digest(
    day: date,
    *,
    pending: int,
    oldest: Sequence[Waiting],
    decided: Sequence[DecidedBy],
    failed: Sequence[FailedProcess],
) -> Message:
    """The digest for ``day``: pending count and the oldest (linked), yesterday's deciders, failures."""
    budget = (MAX_MESSAGE_BLOCKS - 8) // 3
    blocks: list[Block] = [header(f"Approvals digest for {day.isoformat()}")]
    if pending:
        noun = "approval is" if pending == 1 else "approvals are"
        blocks.append(section(f"⏳ *{pending} {noun} waiting for a decision.* The oldest:"))
        blocks.extend(pack_lines([_waiting_line(i) for i in oldest[:SUMMARY_LINES]], max_blocks=budget))
    else:
        blocks.append(section("✅ *Nothing is waiting for a decision.*"))
    total = sum(d.approved + d.rejected for d in decided)
    if decided:
        blocks.append(section(f"*Decided yesterday:* {total} in Slack"))
        lines = [_decided_line(d) for d in decided[:SUMMARY_LINES]]
        blocks.extend(pack_lines(_more(lines, len(decided)), max_blocks=budget))
    else:
        blocks.append(section("*Decided yesterday:* nothing in Slack"))
    if failed:
        blocks.append(section(f"*Process failures in the last day:* {len(failed)}"))
        lines = [_failed_line(p) for p in failed[:SUMMARY_LINES]]
        blocks.extend(pack_lines(_more(lines, len(failed)), max_blocks=budget))
    else:
        blocks.append(section("*Process failures in the last day:* none"))
    blocks.append(context("Decide from the bot's *Home* tab or with `/approvals list`."))
    text = f"Approvals digest: {pending} waiting, {total} decided yesterday, {len(failed)} process failures"
    return fallback(text), blocks
