"""The modal that asks for a reject reason, and the context it carries in ``private_metadata``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.commerce.models import is_approval_id
from bot.limits import COMMENT_MAX_LENGTH, COMMERCE_COMMENT_BYTES, REASON_MIN_LENGTH
from bot.slack.outbound.blocks.ids import REASON_ACTION_ID, REASON_BLOCK_ID, REJECT_MODAL_CALLBACK_ID
from bot.slack.outbound.blocks.text import MODAL_TITLE_LIMIT, code, plain, section

PRIVATE_METADATA_LIMIT = 3000

_CHANNEL_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")
_MESSAGE_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")
_RESPONSE_URL = re.compile(r"^https?://[^\s]{1,500}$")


@dataclass(frozen=True)
class RejectContext:
    """What the modal was opened for: the approval and (when opened from a card) that card."""

    approval_id: str
    channel: str | None = None
    message_ts: str | None = None
    response_url: str | None = None
    """The clicked message's response_url: how the outcome reaches the user (modals have none)."""
    details_view_id: str | None = None
    """The Details modal the dialog was pushed on: the outcome is shown there."""


def _validated(
    approval_id: object,
    channel: object,
    message_ts: object,
    response_url: object = None,
    details_view_id: object = None,
) -> RejectContext:
    if not isinstance(approval_id, str) or not is_approval_id(approval_id):
        raise ValueError(f"invalid approval id in reject metadata: {approval_id!r}")
    if channel is not None and (not isinstance(channel, str) or not _CHANNEL_ID.match(channel)):
        raise ValueError(f"invalid channel in reject metadata: {channel!r}")
    if message_ts is not None and (not isinstance(message_ts, str) or not _MESSAGE_TS.match(message_ts)):
        raise ValueError(f"invalid message ts in reject metadata: {message_ts!r}")
    if response_url is not None and (
        not isinstance(response_url, str) or not _RESPONSE_URL.match(response_url)
    ):
        raise ValueError("invalid response url in reject metadata")
    if details_view_id is not None and (
        not isinstance(details_view_id, str) or not _CHANNEL_ID.match(details_view_id)
    ):
        raise ValueError("invalid details view id in reject metadata")
    return RejectContext(
        approval_id, channel or None, message_ts or None, response_url or None, details_view_id or None
    )


def reject_metadata(context: RejectContext) -> str:
    data = {
        "approval_id": context.approval_id,
        "channel": context.channel,
        "message_ts": context.message_ts,
        "response_url": context.response_url,
    }
    if context.details_view_id:
        data["details_view_id"] = context.details_view_id
    return json.dumps(data, separators=(",", ":"))


def parse_reject_metadata(private_metadata: str) -> RejectContext:
    """Reads back what ``reject_modal`` stored; ``ValueError`` for anything else."""
    if not private_metadata or len(private_metadata) > PRIVATE_METADATA_LIMIT:
        raise ValueError("missing or oversized reject metadata")
    data: Any = json.loads(private_metadata)  # JSONDecodeError is a ValueError
    if not isinstance(data, dict):
        raise ValueError("reject metadata is not an object")
    return _validated(
        data.get("approval_id"),
        data.get("channel"),
        data.get("message_ts"),
        data.get("response_url"),
        data.get("details_view_id"),
    )


def reject_modal(
    approval_id: str,
    *,
    channel: str | None,
    message_ts: str | None,
    response_url: str | None = None,
    details_view_id: str | None = None,
) -> dict[str, Any]:
    """A modal view with one required reason field; submitting it rejects ``approval_id``."""
    context = _validated(approval_id, channel, message_ts, response_url, details_view_id)
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL_CALLBACK_ID,
        "title": plain("Reject request", MODAL_TITLE_LIMIT),
        "submit": plain("Reject", MODAL_TITLE_LIMIT),
        "close": plain("Cancel", MODAL_TITLE_LIMIT),
        "private_metadata": reject_metadata(context),
        "notify_on_close": False,
        "blocks": [
            section(
                f"You are rejecting approval {code(approval_id)}. "
                "The reason is sent to Commerce and shown on the card."
            ),
            {
                "type": "input",
                "block_id": REASON_BLOCK_ID,
                "optional": False,
                "label": plain("Reason", 2000),
                "hint": plain(
                    f"Between {REASON_MIN_LENGTH} and {COMMENT_MAX_LENGTH} characters; Commerce keeps "
                    f"{COMMERCE_COMMENT_BYTES} bytes with your name, so accented letters count twice "
                    "and emoji four times.",
                    2000,
                ),
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_ACTION_ID,
                    "multiline": True,
                    "min_length": REASON_MIN_LENGTH,
                    "max_length": COMMENT_MAX_LENGTH,
                    "placeholder": plain("Why is this request rejected?", 150),
                },
            },
        ],
    }
