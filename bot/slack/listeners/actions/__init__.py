from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.runtime import Runtime
from bot.slack.blocks.ids import APPROVE_ACTION_ID, REJECT_ACTION_ID
from bot.slack.listeners.actions.approval_buttons import ApprovalButtons


def register(app: AsyncApp, runtime: Runtime) -> None:
    buttons = ApprovalButtons(runtime)
    app.action(APPROVE_ACTION_ID)(buttons.on_approve)
    app.action(REJECT_ACTION_ID)(buttons.on_reject)
