from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.background import BackgroundWork
from bot.services.decisions import DecisionService
from bot.slack.inbound.listeners.actions.approval_buttons import ApprovalButtonsListener
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, REJECT_ACTION_ID
from bot.slack.outbound.responses import ResponseUrls


def register(
    app: AsyncApp, *, decisions: DecisionService, work: BackgroundWork, responses: ResponseUrls
) -> None:
    buttons = ApprovalButtonsListener(decisions, work=work, responses=responses)
    app.action(APPROVE_ACTION_ID)(buttons.on_approve)
    app.action(REJECT_ACTION_ID)(buttons.on_reject)
