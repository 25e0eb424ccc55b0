from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services.decisions import DecisionService
from bot.slack.inbound.listeners.views.reject_modal import RejectModalListener
from bot.slack.outbound.blocks.ids import REJECT_MODAL_CALLBACK_ID
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import SlackPoster


def register(
    app: AsyncApp, *, decisions: DecisionService, poster: SlackPoster, home: AppHome | None = None
) -> None:
    app.view(REJECT_MODAL_CALLBACK_ID)(RejectModalListener(decisions, poster, home=home).on_submit)
