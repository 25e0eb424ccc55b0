from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services.decisions import DecisionService
from bot.slack.inbound.listeners.actions.approval_buttons import ApprovalButtonsListener
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, REJECT_ACTION_ID


def register(app: AsyncApp, *, decisions: DecisionService) -> None:
    buttons = ApprovalButtonsListener(decisions)
    app.action(APPROVE_ACTION_ID)(buttons.on_approve)
    app.action(REJECT_ACTION_ID)(buttons.on_reject)
