"""Deciding with the facts in front of you: the Details modal (cards, App Home, ``/approvals show``),
Approve / Reject selected on the App Home, and snoozing a reminder. The cards' registrant, the DM
copies of ``notify: dm`` routes and the reminders' snoozes are part of the approvals and reminders
pollers; this feature adds the listeners."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from bot.features.parts import Contribution, Parts
from bot.services.approval_details import ApprovalDetails
from bot.slack.inbound.listeners.actions.bulk import BulkListener
from bot.slack.inbound.listeners.actions.details import DetailsListener
from bot.slack.inbound.listeners.actions.snooze import SnoozeListener
from bot.slack.outbound.blocks.ids import (
    BULK_APPROVE_ACTION_ID,
    BULK_MODAL_CALLBACK_ID,
    BULK_REJECT_ACTION_ID,
    DETAILS_ACTION_ID,
    DETAILS_PAGE_ACTION_ID,
    HOME_SELECT_ACTION_ID,
    SNOOZE_HOUR_ACTION_ID,
    SNOOZE_MORNING_ACTION_ID,
)


def contribute(parts: Parts) -> Contribution:
    core = parts.approvals

    def listen(app: AsyncApp) -> None:
        details = DetailsListener(
            ApprovalDetails(parts.commerce, parts.store),
            core.decisions,
            core.viewers,
            work=parts.work,
            responses=parts.responses,
            home=core.home,
        )
        app.action(DETAILS_ACTION_ID)(details.on_details)
        app.action(re.compile(f"^{DETAILS_PAGE_ACTION_ID}:"))(details.on_page)
        bulk = BulkListener(
            core.decisions, parts.commerce, core.order_details, core.home, parts.store, work=parts.work
        )
        app.action(HOME_SELECT_ACTION_ID)(bulk.on_select)
        app.action(BULK_APPROVE_ACTION_ID)(bulk.on_bulk)
        app.action(BULK_REJECT_ACTION_ID)(bulk.on_bulk)
        app.view(BULK_MODAL_CALLBACK_ID)(bulk.on_submit)
        snooze = SnoozeListener(core.decisions, work=parts.work, responses=parts.responses)
        app.action(SNOOZE_HOUR_ACTION_ID)(snooze.on_snooze)
        app.action(SNOOZE_MORNING_ACTION_ID)(snooze.on_snooze)

    return Contribution(listeners=(listen,))
