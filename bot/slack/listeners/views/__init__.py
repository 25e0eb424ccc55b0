from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.runtime import Runtime
from bot.slack.blocks.ids import REJECT_MODAL_CALLBACK_ID
from bot.slack.listeners.views.reject_modal import RejectModal


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.view(REJECT_MODAL_CALLBACK_ID)(RejectModal(runtime).on_submit)
