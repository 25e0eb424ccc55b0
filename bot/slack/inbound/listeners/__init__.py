"""Slack listeners, split like the bolt-python templates: commands, actions, views, events.

Each listener gets the parts it uses, never the whole runtime.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.background import BackgroundWork
from bot.bol.client import BolClient
from bot.commerce.client import CommerceClient
from bot.metrics import Metrics
from bot.services.decisions import DecisionService
from bot.services.order_details import OrderDetails
from bot.services.ports import ApproverDirectory
from bot.services.process_status import ProcessStatusService
from bot.slack.inbound.listeners import actions, commands, events, views
from bot.slack.outbound.digest import DailyDigest
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import SlackPoster
from bot.slack.outbound.responses import ResponseUrls
from bot.slack.outbound.viewers import SlackViewerDirectory


def register_listeners(
    app: AsyncApp,
    *,
    commerce: CommerceClient,
    bol: BolClient,
    decisions: DecisionService,
    approvers: ApproverDirectory,
    viewers: SlackViewerDirectory,
    order_details: OrderDetails,
    poster: SlackPoster,
    metrics: Metrics,
    process_status: ProcessStatusService,
    work: BackgroundWork,
    responses: ResponseUrls,
    digest: DailyDigest | None = None,
    home: AppHome | None = None,
) -> None:
    commands.register(
        app,
        commerce=commerce,
        bol=bol,
        decisions=decisions,
        approvers=approvers,
        viewers=viewers,
        order_details=order_details,
        metrics=metrics,
        process_status=process_status,
        work=work,
        responses=responses,
        digest=digest,
    )
    actions.register(app, decisions=decisions, work=work, responses=responses, home=home)
    if home is not None:
        events.register(app, home=home)
    views.register(app, decisions=decisions, poster=poster, work=work, responses=responses, home=home)
