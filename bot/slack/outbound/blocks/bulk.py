"""Several approvals at once from the App Home: the selection, the one confirmation, the one summary.

Invariant: a selection is at most ``BULK_LIMIT`` approvals; the confirmation names how many and their
summed totals per currency; the summary says for each what became of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.commerce.models import Approval, Decision, is_approval_id
from bot.limits import COMMENT_MAX_LENGTH, REASON_MIN_LENGTH
from bot.slack.outbound.blocks.approval_card import KIND_NOUN, format_money
from bot.slack.outbound.blocks.ids import (
    BULK_APPROVE_ACTION_ID,
    BULK_MODAL_CALLBACK_ID,
    BULK_REJECT_ACTION_ID,
    HOME_SELECT_ACTION_ID,
    HOME_SELECT_BLOCK_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
)
from bot.slack.outbound.blocks.text import (
    BUTTON_TEXT_LIMIT,
    MODAL_TITLE_LIMIT,
    escape_keeping_references,
    fallback,
    pack_lines,
    plain,
    section,
    truncate,
)
from bot.slack.outbound.blocks.types import Block, Message

BULK_LIMIT = 25
"""Approvals decided in one go."""
CHECKBOX_OPTIONS_LIMIT = 10
"""Block Kit's options per checkbox group."""
OPTION_TEXT_LIMIT = 75


@dataclass(frozen=True)
class BulkRequest:
    decision: Decision
    approval_ids: tuple[str, ...]


def selection_blocks(approvals: Sequence[Approval]) -> list[Block]:
    """Checkboxes for the page's approvals (one group per 10) and Approve / Reject selected."""
    shown = list(approvals)[:BULK_LIMIT]
    groups = [shown[i : i + CHECKBOX_OPTIONS_LIMIT] for i in range(0, len(shown), CHECKBOX_OPTIONS_LIMIT)]
    blocks: list[Block] = []
    for number, group in enumerate(groups):
        options = [
            {
                "text": plain(
                    f"{KIND_NOUN[a.guessed_kind]} {a.entity_id} · approval {a.id}", OPTION_TEXT_LIMIT
                ),
                "value": a.id,
            }
            for a in group
        ]
        checkboxes = {"type": "checkboxes", "action_id": HOME_SELECT_ACTION_ID, "options": options}
        blocks.append(
            {"type": "actions", "block_id": f"{HOME_SELECT_BLOCK_ID}:{number}", "elements": [checkboxes]}
        )
    buttons = [
        {
            "type": "button",
            "action_id": BULK_APPROVE_ACTION_ID,
            "text": plain("Approve selected", BUTTON_TEXT_LIMIT),
            "value": "approve",
        },
        {
            "type": "button",
            "action_id": BULK_REJECT_ACTION_ID,
            "text": plain("Reject selected", BUTTON_TEXT_LIMIT),
            "value": "reject",
        },
    ]
    blocks.append({"type": "actions", "block_id": "home_bulk", "elements": buttons})
    return blocks


def selected_ids(view: Mapping[str, Any]) -> list[str]:
    """The approval ids ticked in the Home's checkboxes, in order, each once (never more than asked)."""
    values = (view.get("state") or {}).get("values") or {}
    found: list[str] = []
    for block_id, actions in values.items():
        if not str(block_id).startswith(HOME_SELECT_BLOCK_ID) or not isinstance(actions, Mapping):
            continue
        for option in (actions.get(HOME_SELECT_ACTION_ID) or {}).get("selected_options") or []:
            value = str((option or {}).get("value", ""))
            if is_approval_id(value) and value not in found:
                found.append(value)
    return found


def bulk_metadata(request: BulkRequest) -> str:
    return json.dumps(
        {"decision": request.decision.action, "ids": list(request.approval_ids)}, separators=(",", ":")
    )


def parse_bulk_metadata(metadata: str) -> BulkRequest:
    """What :func:`bulk_metadata` wrote; ``ValueError`` for anything else."""
    data: Any = json.loads(metadata or "null")
    if not isinstance(data, dict) or not isinstance(data.get("ids"), list):
        raise ValueError("not bulk metadata")
    ids = tuple(str(i) for i in data["ids"])
    if not ids or len(ids) > BULK_LIMIT or not all(is_approval_id(i) for i in ids):
        raise ValueError("bad approval ids in bulk metadata")
    return BulkRequest(Decision.from_action(str(data.get("decision"))), ids)


def _title(decision: Decision) -> str:
    return "Approve selected" if decision is Decision.APPROVE else "Reject selected"


def bulk_loading(request: BulkRequest) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(_title(request.decision), MODAL_TITLE_LIMIT),
        "close": plain("Cancel", MODAL_TITLE_LIMIT),
        "blocks": [section(f"Adding up {len(request.approval_ids)} approvals…")],
    }


def totals_text(totals: Mapping[str, Decimal], unknown: int) -> str:
    """``EUR 1,234.50 + USD 99.00``, and how many have no known total."""
    parts = [format_money(amount, currency or None) for currency, amount in sorted(totals.items())]
    text = " + ".join(parts) if parts else "no order totals"
    if unknown:
        text += f" ({unknown} without a known total)"
    return text


def bulk_confirm(request: BulkRequest, totals: Mapping[str, Decimal], unknown: int) -> dict[str, Any]:
    """The one confirmation: how many, their totals per currency, and for a rejection one reason."""
    count = len(request.approval_ids)
    verb = "approve" if request.decision is Decision.APPROVE else "reject"
    blocks: list[Block] = [
        section(f"You are about to {verb} *{count} approvals* totalling {totals_text(totals, unknown)}."),
        section("Each goes through the same checks as a single click; you get one summary."),
    ]
    if request.decision is Decision.REJECT:
        blocks.append(
            {
                "type": "input",
                "block_id": REASON_BLOCK_ID,
                "label": plain("Reason (for all of them)", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_ACTION_ID,
                    "multiline": True,
                    "min_length": REASON_MIN_LENGTH,
                    "max_length": COMMENT_MAX_LENGTH,
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": BULK_MODAL_CALLBACK_ID,
        "title": plain(_title(request.decision), MODAL_TITLE_LIMIT),
        "submit": plain(f"{verb.capitalize()} {count}", MODAL_TITLE_LIMIT),
        "close": plain("Cancel", MODAL_TITLE_LIMIT),
        "private_metadata": bulk_metadata(request),
        "blocks": blocks,
    }


@dataclass(frozen=True)
class BulkOutcome:
    approval_id: str
    category: str
    """``decided``, ``voted``, ``refused`` or ``failed``."""
    message: str


CATEGORIES = (
    ("decided", "✅ Decided"),
    ("voted", "🗳️ Voted"),
    ("refused", "🚫 Refused"),
    ("failed", "⚠️ Failed"),
)


def bulk_summary(decision: Decision, outcomes: Sequence[BulkOutcome]) -> Message:
    """One message: how many of each, and each approval's line with why when it was not decided."""
    counts = {key: sum(1 for o in outcomes if o.category == key) for key, _ in CATEGORIES}
    head = f"*{_title(decision)}: {len(outcomes)} approvals* · " + ", ".join(
        f"{counts[key]} {key}" for key, _ in CATEGORIES if counts[key]
    )
    blocks: list[Block] = [section(head)]
    for key, label in CATEGORIES:
        lines = [
            truncate(f"{label} `{o.approval_id}`: {escape_keeping_references(o.message)}", 600)
            for o in outcomes
            if o.category == key
        ]
        blocks += pack_lines(lines, max_blocks=4) if lines else []
    return fallback(head.replace("*", "")), blocks[:50]
