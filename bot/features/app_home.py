"""The App Home: a user's tab (pending approvals, their decisions and watches), its pager, and a
refresh of the decider's tab after each decision."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.features.parts import Contribution, Parts
from bot.slack.inbound.listeners.actions.home_pager import HomePagerListener
from bot.slack.inbound.listeners.events.app_home import AppHomeListener
from bot.slack.outbound.blocks.ids import HOME_NEWER_ACTION_ID, HOME_OLDER_ACTION_ID


def contribute(parts: Parts) -> Contribution:
    home = parts.approvals.home
    parts.approvals.cards.after_decision(home.refresh)

    def listen(app: AsyncApp) -> None:
        app.event("app_home_opened")(AppHomeListener(home).on_opened)
        pager = HomePagerListener(home)
        app.action(HOME_NEWER_ACTION_ID)(pager.on_page)
        app.action(HOME_OLDER_ACTION_ID)(pager.on_page)

    return Contribution(listeners=(listen,))
