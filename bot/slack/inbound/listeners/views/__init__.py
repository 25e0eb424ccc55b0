from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.background import BackgroundWork
from bot.services.decisions import DecisionService
from bot.slack.inbound.listeners.views.reject_modal import RejectModalListener
from bot.slack.outbound.blocks.ids import REJECT_MODAL_CALLBACK_ID
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import SlackPoster
from bot.slack.outbound.responses import ResponseUrls


def register(
    app: AsyncApp,
    *,
    decisions: DecisionService,
    poster: SlackPoster,
    work: BackgroundWork,
    responses: ResponseUrls,
    home: AppHome | None = None,
) -> None:
    listener = RejectModalListener(decisions, poster, work=work, responses=responses, home=home)
    app.view(REJECT_MODAL_CALLBACK_ID)(listener.on_submit)
