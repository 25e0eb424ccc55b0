"""What the bot says after a card: decisions in its thread, backlog summaries, reminders, escalations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.commerce.models import Approval, Decision
from bot.slack.outbound.blocks.approval_card import KIND_NOUN
from bot.slack.outbound.blocks.ids import SNOOZE_HOUR_ACTION_ID, SNOOZE_MORNING_ACTION_ID
from bot.slack.outbound.blocks.text import (
    BUTTON_TEXT_LIMIT,
    MAX_MESSAGE_BLOCKS,
    code,
    context,
    escape,
    fallback,
    maybe_date,
    pack_lines,
    plain,
    quote,
    section,
    user_mention,
)
from bot.slack.outbound.blocks.types import Block, Message

SUMMARY_LINES = 10
"""How many approvals a summary names; the rest are counted."""

_SAFE_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")
WHERE_TO_LOOK = "Open the bot's *Home* tab or run `/approvals list` to decide them."


def mention(entry: str) -> str:
    """``<!subteam^S…>`` for a user group, ``<@U…>`` for a user; anything else is shown escaped."""
    if entry.startswith("S") and _SAFE_ID.match(entry):
        return f"<!subteam^{entry}>"
    return user_mention(entry)


def mentions(entries: Sequence[str]) -> str:
    return " ".join(mention(entry) for entry in entries)


def waited(duration: timedelta) -> str:
    """``3 d 4 h``, ``5 h``, ``12 min``: how long something has waited, to the unit that matters."""
    minutes = max(0, int(duration.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"


def decision_reply(decision: Decision, *, decided_by: str, comment: str | None) -> Message:
    """The reply in the card's thread that records a decision: ``Approved by @jane: ok``."""
    mark = "✅" if decision is Decision.APPROVE else "❌"
    line = f"{mark} {decision.verb.capitalize()} by {user_mention(decided_by)}"
    blocks: list[Block] = [section(line)]
    if comment and comment.strip():
        blocks.append(section(quote(comment.strip())))
        line += f": {escape(comment.strip())}"
    return fallback(line), blocks


def _approval_line(approval: Approval) -> str:
    who = escape(approval.submitter_name.strip()) if approval.submitter_name else code(approval.submitter_id)
    return (
        f"• {KIND_NOUN[approval.guessed_kind]} {code(approval.entity_id)} from {who}, "
        f"submitted {maybe_date(approval.submit_time)} (approval {code(approval.id)})"
    )


def backlog_summary(approvals: Sequence[Approval]) -> Message:
    """One message instead of a card each: how many wait, the oldest few, and where to decide them."""
    ordered = sorted(approvals, key=lambda a: (a.submit_time is None, a.submit_time or datetime.min, a.id))
    shown = ordered[:SUMMARY_LINES]
    headline = f"📥 *{len(approvals)} approvals are waiting*: too many to post a card for each."
    blocks: list[Block] = [section(headline)]
    blocks.extend(pack_lines([_approval_line(a) for a in shown], max_blocks=MAX_MESSAGE_BLOCKS - 3))
    if len(ordered) > len(shown):
        blocks.append(context(f"…and {len(ordered) - len(shown)} more."))
    blocks.append(context(WHERE_TO_LOOK))
    return fallback(f"{len(approvals)} approvals are waiting for a decision"), blocks


@dataclass(frozen=True)
class Waiting:
    """An approval a follow-up is about: its id, how long it has waited, and a link to its card."""

    approval_id: str
    waited: timedelta
    link: str | None = None


def _waiting_line(item: Waiting) -> str:
    what = f"approval {code(item.approval_id)}"
    if item.link:
        what = f"<{item.link}|approval {escape(item.approval_id)}>"
    return f"• {what}, waiting {waited(item.waited)}"


def reminder(item: Waiting, approvers: Sequence[str], *, number: int, of: int) -> Message:
    """The reply in a card's thread when its approval has waited too long."""
    who = mentions(approvers) or "Approvers"
    # Named, because a backlog summary's thread holds the reminders of many approvals.
    line = f"⏰ {who}: approval {code(item.approval_id)} has waited {waited(item.waited)} for a decision."
    blocks: list[Block] = [
        section(line),
        context(f"Reminder {number} of {of}."),
        snooze_buttons(item.approval_id),
    ]
    return fallback(f"Reminder: approval {escape(item.approval_id)} has waited {waited(item.waited)}"), blocks


def snooze_buttons(approval_id: str) -> Block:
    """Remind me in 1 h / Tomorrow morning: the clicker's next reminder of this approval comes then."""
    return {
        "type": "actions",
        "block_id": f"snooze:{approval_id}",
        "elements": [
            {
                "type": "button",
                "action_id": action_id,
                "text": plain(text, BUTTON_TEXT_LIMIT),
                "value": approval_id,
            }
            for action_id, text in (
                (SNOOZE_HOUR_ACTION_ID, "Remind me in 1 h"),
                (SNOOZE_MORNING_ACTION_ID, "Tomorrow morning"),
            )
        ],
    }


def _many(headline: str, items: Sequence[Waiting], text: str) -> Message:
    shown = items[:SUMMARY_LINES]
    blocks: list[Block] = [section(headline)]
    blocks.extend(pack_lines([_waiting_line(i) for i in shown], max_blocks=MAX_MESSAGE_BLOCKS - 3))
    if len(items) > len(shown):
        blocks.append(context(f"…and {len(items) - len(shown)} more."))
    blocks.append(context(WHERE_TO_LOOK))
    return fallback(text), blocks


def reminder_summary(items: Sequence[Waiting], approvers: Sequence[str]) -> Message:
    """One reminder for many approvals at once (instead of a thread reply each)."""
    who = mentions(approvers) or "Approvers"
    headline = f"⏰ {who}: *{len(items)} approvals* are still waiting for a decision."
    return _many(headline, items, f"Reminder: {len(items)} approvals are still waiting")


def escalation(items: Sequence[Waiting], escalate_to: Sequence[str]) -> Message:
    """The message in the escalation channel: approvals nobody decided in time."""
    who = mentions(escalate_to)
    count = "1 approval has" if len(items) == 1 else f"{len(items)} approvals have"
    headline = f"🚨 {who + ': ' if who else ''}*{count} not been decided* in time."
    return _many(headline, items, f"Escalation: {count} not been decided in time")
