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
from bot.slack.inbound.listeners.commands.approvals import ApprovalsCommandListener
from bot.slack.inbound.listeners.commands.process_status import ProcessStatusCommandListener
from bot.slack.outbound.digest import DailyDigest
from bot.slack.outbound.responses import ResponseUrls
from bot.slack.outbound.viewers import SlackViewerDirectory


def register(
    app: AsyncApp,
    *,
    commerce: CommerceClient,
    bol: BolClient,
    decisions: DecisionService,
    approvers: ApproverDirectory,
    viewers: SlackViewerDirectory,
    order_details: OrderDetails,
    metrics: Metrics,
    process_status: ProcessStatusService,
    work: BackgroundWork,
    responses: ResponseUrls,
    digest: DailyDigest | None = None,
) -> None:
    approvals = ApprovalsCommandListener(
        commerce,
        decisions,
        approvers,
        order_details,
        metrics,
        work=work,
        responses=responses,
        viewers=viewers,
        digest=digest,
    )
    app.command("/approvals")(approvals.handle)
    process_status_listener = ProcessStatusCommandListener(
        bol, process_status, metrics, work=work, responses=responses
    )
    app.command("/process-status")(process_status_listener.handle)
