"""Slack listeners, split like the bolt-python templates: commands, actions, views."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.runtime import Runtime
from bot.slack.listeners import actions, commands, views


def register_listeners(app: AsyncApp, runtime: Runtime) -> None:
    commands.register(app, runtime)
    actions.register(app, runtime)
    views.register(app, runtime)
