from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.runtime import Runtime
from bot.slack.listeners.commands.approvals import ApprovalsCommand
from bot.slack.listeners.commands.process_status import ProcessStatusCommand


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.command("/approvals")(ApprovalsCommand(runtime).handle)
    app.command("/process-status")(ProcessStatusCommand(runtime).handle)
