"""Approval cards and decisions: new approvals become cards (routed, with backlog summaries), buttons,
the reject dialog and ``/approvals`` decide them through the decision core."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.features.parts import Contribution, Parts
from bot.notifier.announcements import CardAnnouncer
from bot.notifier.approvals import ApprovalsNotifier, ListingPolicy
from bot.slack.inbound.listeners.actions.approval_buttons import ApprovalButtonsListener
from bot.slack.inbound.listeners.commands.approvals import ApprovalsCommandListener, CommandAccess
from bot.slack.inbound.listeners.views.reject_modal import RejectModalListener
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, REJECT_ACTION_ID, REJECT_MODAL_CALLBACK_ID

MIN_ANNOUNCE_INTERVAL_SECONDS = 0.2


def contribute(parts: Parts) -> Contribution:
    settings, core = parts.settings, parts.approvals
    announcer = CardAnnouncer(
        parts.commerce,
        parts.store,
        core.cards,
        parts.metrics,
        order_details=core.order_details,
        interval_seconds=max(settings.slack_post_interval_seconds, MIN_ANNOUNCE_INTERVAL_SECONDS),
        retry_seconds=settings.approvals_poll_seconds,  # a card not posted comes back with the listing
    )
    notifier = ApprovalsNotifier(
        parts.commerce,
        parts.store,
        core.cards,
        parts.metrics,
        announcer=announcer,
        decisions=core.decisions,
        order_details=core.order_details,
        policy=ListingPolicy(
            channel=settings.approvals_channel,
            routes=core.routes,
            interval_seconds=settings.approvals_poll_seconds,
            page_size=settings.commerce_page_size,
            backlog_limit=settings.approvals_backlog_limit,
        ),
    )

    def listen(app: AsyncApp) -> None:
        command = ApprovalsCommandListener(
            parts.commerce,
            core.decisions,
            core.order_details,
            parts.metrics,
            access=CommandAccess(core.approvers, core.viewers),
            work=parts.work,
            responses=parts.responses,
            digest=core.digest,
        )
        app.command("/approvals")(command.handle)
        buttons = ApprovalButtonsListener(
            core.decisions, work=parts.work, responses=parts.responses, home=core.home
        )
        app.action(APPROVE_ACTION_ID)(buttons.on_approve)
        app.action(REJECT_ACTION_ID)(buttons.on_reject)
        modal = RejectModalListener(
            core.decisions, parts.poster, work=parts.work, responses=parts.responses, home=core.home
        )
        app.view(REJECT_MODAL_CALLBACK_ID)(modal.on_submit)

    return Contribution(pollers=(notifier, announcer), announcers=(announcer,), listeners=(listen,))
