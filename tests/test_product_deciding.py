"""Deciding with the facts as ``approvals-bot serve`` runs it: one real process, the notifier on.

A route with ``notify: dm`` sends its approvers the card as a direct message; **Details** opens the
order in a modal; a reminder carries the snooze buttons; **Approve selected** on the App Home
decides several approvals through the single click's path and sends one summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.commerce.models import ApprovalKind
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage, dm_channel
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import (
    BULK_APPROVE_ACTION_ID,
    BULK_MODAL_CALLBACK_ID,
    DETAILS_ACTION_ID,
    HOME_SELECT_ACTION_ID,
    SNOOZE_HOUR_ACTION_ID,
)
from tests.cli_process import free_port
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SECOND_APPROVER, SIGNING_SECRET
from tests.replicas import Replica
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_dm_copies import DM_ROUTES
from tests.waiting import wait_for


def _text(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _card(slack: SlackEmulator, approval_id: str) -> StoredMessage | None:
    return next(
        (m for m in slack.top_level_messages(APPROVALS_CHANNEL) if approval_id in _text(m.blocks)), None
    )


def test_serve_sends_dm_copies_opens_details_snoozes_and_decides_a_selection_from_the_home(
    make_settings: Callable[..., Settings], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    (tmp_path / "routes.yaml").write_text(DM_ROUTES)
    settings = make_settings(
        notifier_enabled=True,
        port=free_port(),
        approvals_poll_seconds=0.5,
        approvals_followup_poll_seconds=0.5,
        approvals_remind_after="2s",
        approvals_routes_file=str(tmp_path / "routes.yaml"),
    )
    first = commerce.add_approval(ApprovalKind.ORDER, order_total="1234.50", order_items=3)
    second = commerce.add_approval(ApprovalKind.ORDER, order_total="99.00", order_items=1)

    bot = Replica(settings, tmp_path / "serve")
    bot.wait_until_listening()
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    try:
        card = wait_for(lambda: _card(slack, first), what="the first card")

        def copied_to(approver: str) -> bool:
            return any(first in _text(m.blocks) for m in slack.top_level_messages(dm_channel(approver)))

        for approver in (APPROVER, SECOND_APPROVER):
            wait_for(lambda a=approver: copied_to(a), what=f"the card's copy in {approver}'s direct messages")  # type: ignore[misc]

        # Details: the order in a modal.
        assert (
            sender.block_action(
                DETAILS_ACTION_ID, first, APPROVER, APPROVALS_CHANNEL, card.ts, slack.new_response_url()
            ).status_code
            == 200
        )
        order_id = commerce.approval(first)["entityId"]
        wait_for(
            lambda: any(order_id in _text(v) and "Grand total" in _text(v) for v in slack.modals.values()),
            what="the order's details in a modal",
        )

        # A reminder in the card's thread carries the snooze buttons; snoozing is answered.
        reminder = wait_for(
            lambda: next(
                (m for m in slack.thread_replies(APPROVALS_CHANNEL, card.ts) if "Reminder" in (m.text or "")),
                None,
            ),
            what="a reminder in the card's thread",
        )
        assert SNOOZE_HOUR_ACTION_ID in _text(reminder.blocks)
        url = slack.new_response_url()
        sender.block_action(
            SNOOZE_HOUR_ACTION_ID,
            first,
            APPROVER,
            APPROVALS_CHANNEL,
            reminder.ts,
            url,
            block_id=f"snooze:{first}",
        )
        (answer,) = wait_for(lambda: slack.responses(url), what="the snooze answer")
        assert "in an hour" in answer["text"]

        # Approve selected from the App Home: one confirmation, each decided, one summary.
        wait_for(lambda: _card(slack, second), what="the second card")
        assert sender.app_home_opened(APPROVER).status_code == 200
        wait_for(lambda: slack.home_view(APPROVER), what="the App Home")
        options = [{"text": {"type": "plain_text", "text": i}, "value": i} for i in (first, second)]
        state = {
            "home_select:0": {HOME_SELECT_ACTION_ID: {"type": "checkboxes", "selected_options": options}}
        }
        sender.home_action(BULK_APPROVE_ACTION_ID, "approve", APPROVER, state=state)
        confirmation = wait_for(
            lambda: next(
                (v for v in slack.modals.values() if v.get("callback_id") == BULK_MODAL_CALLBACK_ID), None
            ),
            what="the confirmation",
        )
        sender.view_submission(BULK_MODAL_CALLBACK_ID, confirmation["private_metadata"], {}, APPROVER)
        wait_for(
            lambda: commerce.approval(first)["status"] == "1" and commerce.approval(second)["status"] == "1",
            what="both approvals approved",
        )
        wait_for(
            lambda: [
                c
                for c in slack.calls("chat.postMessage")
                if c.get("channel") == APPROVER and "2 decided" in _text(c.get("blocks"))
            ],
            what="the one summary to the approver",
        )
    finally:
        assert bot.stop() == 0
