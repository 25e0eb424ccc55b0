from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.inbound.listeners.events.app_home import AppHomeListener
from bot.slack.outbound.home import AppHome


def register(app: AsyncApp, *, home: AppHome) -> None:
    app.event("app_home_opened")(AppHomeListener(home).on_opened)
