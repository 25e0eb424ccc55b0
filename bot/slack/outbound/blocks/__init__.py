"""Pure Block Kit builders: every function returns data, none talks to Slack.

Builders return ``Message`` = ``(fallback_text, blocks)`` unless noted otherwise.
"""

from bot.slack.outbound.blocks.approval_card import (
    approval_card,
    approval_detail,
    approvals_list,
    closed_card,
    decided_card,
    decided_elsewhere_card,
    not_found_card,
)
from bot.slack.outbound.blocks.help import approvals_help, error_message, process_status_help
from bot.slack.outbound.blocks.process_status import (
    process_purged_message,
    process_status_list,
    process_status_message,
    watch_confirmation,
)
from bot.slack.outbound.blocks.reject_modal import RejectContext, parse_reject_metadata, reject_modal
from bot.slack.outbound.blocks.text import escape, truncate
from bot.slack.outbound.blocks.types import Block, Message

__all__ = [
    "Block",
    "Message",
    "RejectContext",
    "approval_card",
    "approval_detail",
    "approvals_help",
    "approvals_list",
    "closed_card",
    "decided_card",
    "decided_elsewhere_card",
    "error_message",
    "escape",
    "not_found_card",
    "parse_reject_metadata",
    "process_purged_message",
    "process_status_help",
    "process_status_list",
    "process_status_message",
    "reject_modal",
    "truncate",
    "watch_confirmation",
]
