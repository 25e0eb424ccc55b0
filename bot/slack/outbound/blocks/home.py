"""The App Home tab: an approver's desk (pending approvals with buttons, their decisions and watches),
or for anyone else what the bot does and who the approvers are.

Whatever the backlog, a view stays within Slack's 100 blocks: one page of approvals at a time (two
blocks each) and packed sections for the lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.commerce.models import Approval, ApprovalPage
from bot.slack.outbound.blocks.approval_card import KIND_NOUN, actions_block
from bot.slack.outbound.blocks.bulk import BULK_LIMIT, selection_blocks
from bot.slack.outbound.blocks.followups import mentions
from bot.slack.outbound.blocks.ids import HOME_NEWER_ACTION_ID, HOME_OLDER_ACTION_ID
from bot.slack.outbound.blocks.text import (
    BUTTON_TEXT_LIMIT,
    EN_DASH,
    MAX_MODAL_BLOCKS,
    channel_mention,
    code,
    context,
    divider,
    escape,
    escape_keeping_references,
    header,
    maybe_date,
    pack_lines,
    plain,
    section,
)
from bot.slack.outbound.blocks.types import Block
from bot.storage.records import AuditEntry, Watch

MAX_HOME_BLOCKS = MAX_MODAL_BLOCKS
HOME_PAGE_SIZE = BULK_LIMIT
"""Approvals per Home page: as many as one selection may hold (each on the page can be ticked, in
checkbox groups of 10: Block Kit's limit per group); two blocks each, plus the page's others, keep
the view below Slack's 100 blocks."""
LIST_BLOCKS = 3
"""Sections a list (decisions, watches) may take."""

ABOUT = (
    "I post HCL Commerce approval requests (orders and buyer registrations) in the approvals channel, "
    "where approvers approve or reject them with a click, and I tell you when bol.com processes you "
    "watch with `/process-status watch <id>` finish."
)


def _approval_line(approval: Approval) -> str:
    who = escape(approval.submitter_name.strip()) if approval.submitter_name else code(approval.submitter_id)
    return (
        f"*{KIND_NOUN[approval.guessed_kind]}* {code(approval.entity_id)} from {who} · "
        f"submitted {maybe_date(approval.submit_time)} · approval {code(approval.id)}"
    )


def _decision_line(entry: AuditEntry) -> str:
    mark, verb = ("✅", "Approved") if entry.action == "approve" else ("❌", "Rejected")
    line = f"{mark} {verb} approval {code(entry.approval_id or '?')} {maybe_date(entry.at)}"
    if entry.comment and entry.comment.strip():
        line += f": {escape(entry.comment.strip())}"
    return line


def _watch_line(watch: Watch) -> str:
    if watch.finished_at is None:
        state = f"⏳ watching since {maybe_date(watch.created_at)}"
    else:
        state = f"{escape(watch.last_state or 'finished')} {maybe_date(watch.finished_at)}"
    return f"{code(watch.process_status_id)} in {channel_mention(watch.channel)}: {state}"


def _pager(page: ApprovalPage, page_number: int, page_size: int) -> Block | None:
    buttons = []
    if page_number > 1:
        buttons.append(_page_button(HOME_NEWER_ACTION_ID, "Newer", page_number - 1))
    shown_up_to = (page_number - 1) * page_size + len(page.items)
    if shown_up_to < page.total or (not page.complete and len(page.items) >= page_size):
        buttons.append(_page_button(HOME_OLDER_ACTION_ID, "More", page_number + 1))
    return {"type": "actions", "block_id": "home_pager", "elements": buttons} if buttons else None


def _page_button(action_id: str, text: str, page_number: int) -> Block:
    return {
        "type": "button",
        "action_id": action_id,
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "value": str(page_number),
    }


def _list(title: str, lines: list[str], empty: str) -> list[Block]:
    if not lines:
        return [section(f"*{title}*\n{empty}")]
    return [section(f"*{title}*"), *pack_lines(lines, max_blocks=LIST_BLOCKS)]


def _view(blocks: list[Block]) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


def approver_home(
    page: ApprovalPage | None,
    *,
    page_number: int,
    page_size: int = HOME_PAGE_SIZE,
    decisions: Sequence[AuditEntry],
    watches: Sequence[Watch],
    notice: str | None = None,
    hidden: int = 0,
) -> dict[str, Any]:
    """An approver's Home: ``page`` of pending approvals (``None``: Commerce could not be read),
    newest first, each with Approve/Reject; their last decisions; the watches they started. ``hidden``:
    approvals of this page left out because other approvers decide them (said, never shown)."""
    blocks: list[Block] = [header("Approvals waiting for you")]
    if notice:
        blocks.append(section(f"⚠️ {escape_keeping_references(notice)}"))
    if page is None:
        blocks.append(section("Commerce could not be read just now; open this tab again in a moment."))
    elif not page.items:
        blocks.append(section("✅ Nothing is waiting for your decision."))
        if hidden:
            blocks.append(context(_hidden_line(hidden)))
    else:
        first = (page_number - 1) * page_size + 1
        last = first + len(page.items) - 1
        total = max(page.total, last)
        blocks.append(context(f"{total} pending, newest first · showing {first}{EN_DASH}{last}"))
        if hidden:
            blocks.append(context(_hidden_line(hidden)))
        for approval in page.items[:page_size]:
            blocks.extend([section(_approval_line(approval)), actions_block(approval)])
        pager = _pager(page, page_number, page_size)
        if pager is not None:
            blocks.append(pager)
        blocks.extend(selection_blocks(page.items[:page_size]))
    blocks.append(divider())
    blocks.extend(_list("Your last decisions", [_decision_line(e) for e in decisions], "None yet."))
    blocks.append(divider())
    blocks.extend(_list("Process watches you started", [_watch_line(w) for w in watches], "None."))
    blocks.append(context("Also: `/approvals list`, `/approvals digest`, `/approvals help`."))
    return _view(blocks)


def _hidden_line(hidden: int) -> str:
    those = "1 approval" if hidden == 1 else f"{hidden} approvals"
    return f"{those} on this page go to other approvers (their routes) and are not shown."


def visitor_home(approvers: Sequence[str], watches: Sequence[Watch]) -> dict[str, Any]:
    """Home for someone who may not decide: what the bot does and who may approve."""
    who = mentions(approvers) or "nobody yet (an admin sets APPROVERS)"
    blocks: list[Block] = [
        header("Commerce Approvals"),
        section(ABOUT),
        section(f"*Who approves:* {who}"),
        context("Only approvers see the approvals waiting here; anyone can use `/approvals list`."),
        divider(),
        *_list("Process watches you started", [_watch_line(w) for w in watches], "None."),
    ]
    return _view(blocks)
