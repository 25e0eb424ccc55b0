from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from bot.background import BackgroundWork
from bot.commerce.client import CommerceClient
from bot.services.approval_details import ApprovalDetails
from bot.services.decisions import DecisionService
from bot.services.order_details import OrderDetails
from bot.slack.inbound.listeners.actions.approval_buttons import ApprovalButtonsListener
from bot.slack.inbound.listeners.actions.bulk import BulkListener
from bot.slack.inbound.listeners.actions.details import DetailsListener
from bot.slack.inbound.listeners.actions.home_pager import HomePagerListener
from bot.slack.inbound.listeners.actions.snooze import SnoozeListener
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    BULK_APPROVE_ACTION_ID,
    BULK_MODAL_CALLBACK_ID,
    BULK_REJECT_ACTION_ID,
    DETAILS_ACTION_ID,
    DETAILS_PAGE_ACTION_ID,
    HOME_NEWER_ACTION_ID,
    HOME_OLDER_ACTION_ID,
    HOME_SELECT_ACTION_ID,
    REJECT_ACTION_ID,
    SNOOZE_HOUR_ACTION_ID,
    SNOOZE_MORNING_ACTION_ID,
)
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.responses import ResponseUrls
from bot.slack.outbound.viewers import SlackViewerDirectory
from bot.storage.store import Store


def register(
    app: AsyncApp,
    *,
    decisions: DecisionService,
    work: BackgroundWork,
    responses: ResponseUrls,
    home: AppHome | None = None,
) -> None:
    buttons = ApprovalButtonsListener(decisions, work=work, responses=responses, home=home)
    app.action(APPROVE_ACTION_ID)(buttons.on_approve)
    app.action(REJECT_ACTION_ID)(buttons.on_reject)
    if home is not None:
        pager = HomePagerListener(home)
        app.action(HOME_NEWER_ACTION_ID)(pager.on_page)
        app.action(HOME_OLDER_ACTION_ID)(pager.on_page)


def register_details(
    app: AsyncApp,
    *,
    details: ApprovalDetails,
    decisions: DecisionService,
    viewers: SlackViewerDirectory,
    store: Store,
    work: BackgroundWork,
    responses: ResponseUrls,
    home: AppHome | None = None,
) -> None:
    """The Details button and the Details modal's pager (its buttons' action ids end in the way)."""
    listener = DetailsListener(details, decisions, viewers, store, work=work, responses=responses, home=home)
    app.action(DETAILS_ACTION_ID)(listener.on_details)
    app.action(re.compile(f"^{DETAILS_PAGE_ACTION_ID}:"))(listener.on_page)


def register_bulk(
    app: AsyncApp,
    *,
    decisions: DecisionService,
    commerce: CommerceClient,
    order_details: OrderDetails,
    store: Store,
    home: AppHome,
    work: BackgroundWork,
) -> None:
    """Approve / Reject selected on the App Home: the ticks, the buttons and the confirmation."""
    listener = BulkListener(decisions, commerce, order_details, store, home, work=work)
    app.action(HOME_SELECT_ACTION_ID)(listener.on_select)
    app.action(BULK_APPROVE_ACTION_ID)(listener.on_bulk)
    app.action(BULK_REJECT_ACTION_ID)(listener.on_bulk)
    app.view(BULK_MODAL_CALLBACK_ID)(listener.on_submit)


def register_snooze(
    app: AsyncApp, *, decisions: DecisionService, store: Store, work: BackgroundWork, responses: ResponseUrls
) -> None:
    """A reminder's Remind me in 1 h / Tomorrow morning buttons."""
    listener = SnoozeListener(decisions, store, work=work, responses=responses)
    app.action(SNOOZE_HOUR_ACTION_ID)(listener.on_snooze)
    app.action(SNOOZE_MORNING_ACTION_ID)(listener.on_snooze)
