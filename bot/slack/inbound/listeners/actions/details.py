"""The Details button (cards, App Home) and the Details modal's pager.

Invariant: a user who may not ``show`` approvals is refused before anything is read from Commerce;
the modal opens at once (the trigger lives 3 s) and the details follow with ``views.update``.
Every opening is in the audit log (action ``details``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import BackgroundWork
from bot.services.approval_details import ApprovalDetails, DetailsUnavailable
from bot.services.decisions import DecisionService
from bot.slack.inbound.listeners.actions.approval_buttons import button_approval_id, from_app_home
from bot.slack.inbound.listeners.replies import ack_action_then, reply, reply_unexpected
from bot.slack.outbound.blocks.details import (
    LINES_PER_PAGE,
    DetailsPage,
    details_loading,
    details_unavailable,
    details_view,
    parse_pager_value,
)
from bot.slack.outbound.blocks.help import error_message
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import slack_error_code
from bot.slack.outbound.responses import Respond, ResponseUrls
from bot.slack.outbound.viewers import VIEWERS_REFUSAL, SlackViewerDirectory
from bot.storage.records import AuditEntry

log = logging.getLogger(__name__)

VIEWER_CHECK_SECONDS = 1.5
"""The viewer check before the modal opens gets half the trigger's 3 s; slower is a refusal."""
DETAILS_ACTION = "details"


class DetailsListener:
    def __init__(
        self,
        details: ApprovalDetails,
        decisions: DecisionService,
        viewers: SlackViewerDirectory,
        *,
        work: BackgroundWork,
        responses: ResponseUrls,
        home: AppHome | None = None,
    ) -> None:
        self._details = details
        self._decisions = decisions
        self._viewers = viewers
        self._work = work
        self._responses = responses
        self._home = home

    async def on_details(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        respond = self._responses.to(body.get("response_url"))
        await ack_action_then(
            ack, self._work, self._open(body, action, respond, client), "the Details button", respond
        )

    async def on_page(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        respond = self._responses.to(None)
        await ack_action_then(ack, self._work, self._turn(body, action, client), "the Details pager", respond)

    async def _open(
        self, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        approval_id = await button_approval_id(action, respond)
        if approval_id is None:
            return
        user_id = str((body.get("user") or {}).get("id", ""))
        try:
            if not await self._may_view(user_id):
                await self._audit(user_id, approval_id, "refused")
                await self._refuse(body, respond, user_id)
                return
            opened = await client.views_open(
                trigger_id=body.get("trigger_id"), view=details_loading(approval_id)
            )
            await self._audit(user_id, approval_id, "ok")
            view_id = str((opened.get("view") or {}).get("id", ""))
            await self._show(client, view_id, user_id, DetailsPage(approval_id))
        except SlackApiError as error:
            await reply(
                respond, error_message(f"Slack could not open the details ({slack_error_code(error)}).")
            )
        except Exception:
            await reply_unexpected(respond, "the Details button")

    async def _turn(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        page = parse_pager_value(str(action.get("value", "")))
        view = body.get("view") or {}
        user_id = str((body.get("user") or {}).get("id", ""))
        if page is None or not view.get("id"):
            return
        try:
            if not await self._may_view(user_id):
                return
            await self._show(client, str(view["id"]), user_id, page)
        except Exception:
            log.exception("turning the details of approval %s to page %d failed", page.approval_id, page.page)

    async def _show(self, client: AsyncWebClient, view_id: str, user_id: str, page: DetailsPage) -> None:
        try:
            facts = await self._details.read(page.approval_id, page=page.page, page_size=LINES_PER_PAGE)
        except DetailsUnavailable as unavailable:
            await client.views_update(
                view_id=view_id, view=details_unavailable(page.approval_id, unavailable.message)
            )
            return
        can_act = facts.approval.is_pending and await self._decisions.may_decide(page.approval_id, user_id)
        view = details_view(
            facts.approval,
            page=page,
            order=facts.order,
            order_failure=facts.order_failure,
            history=facts.history,
            registrant=facts.registrant,
            registrant_failure=facts.registrant_failure,
            can_act=can_act,
        )
        await client.views_update(view_id=view_id, view=view)

    async def _may_view(self, user_id: str) -> bool:
        try:
            async with asyncio.timeout(VIEWER_CHECK_SECONDS):
                return await self._viewers.may_view(user_id)
        except TimeoutError:
            log.warning("the viewer check for %s took over %gs: refused", user_id, VIEWER_CHECK_SECONDS)
            return False

    async def _refuse(self, body: dict[str, Any], respond: Respond, user_id: str) -> None:
        if self._home is not None and from_app_home(body):
            await self._home.publish(user_id, notice=VIEWERS_REFUSAL)
        else:
            await reply(respond, error_message(VIEWERS_REFUSAL))

    async def _audit(self, user_id: str, approval_id: str, outcome: str) -> None:
        await self._decisions.record(AuditEntry(user_id, DETAILS_ACTION, approval_id, outcome))
