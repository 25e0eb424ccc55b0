"""Approve / Reject buttons on approval cards."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import BackgroundWork
from bot.commerce.models import Decision, is_approval_id
from bot.services.decisions import DecisionRequest, DecisionResult, DecisionService, Outcome
from bot.slack.inbound.listeners.progress import decide_telling_delay
from bot.slack.inbound.listeners.replies import ack_action_then, reply, reply_unexpected
from bot.slack.outbound.blocks.details import with_outcome
from bot.slack.outbound.blocks.help import error_message, notice
from bot.slack.outbound.blocks.ids import APPROVAL_ACTIONS_BLOCK_PREFIX
from bot.slack.outbound.blocks.reject_modal import reject_modal
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import slack_error_code
from bot.slack.outbound.responses import Respond, ResponseUrls

log = logging.getLogger(__name__)

REFUSAL_CHECK_SECONDS = 1.5
"""Slack's trigger_id lives 3 s: the approver check before opening the reject dialog gets half."""
CLOSES_THE_QUESTION = (Outcome.OK, Outcome.NOT_PENDING, Outcome.NOT_FOUND, Outcome.ALREADY_DECIDED)


def decision_request(
    body: dict[str, Any], approval_id: str, decision: Decision, comment: str | None
) -> DecisionRequest:
    user = body.get("user") or {}
    container = body.get("container") or {}
    # The clicked message is rewritten with the outcome only if it is this approval's own message:
    # a button whose value names another approval must not overwrite the message it sits on.
    clicked_is_ours = not container.get("is_ephemeral") and _shows_approval(body, approval_id)
    return DecisionRequest(
        approval_id=approval_id,
        decision=decision,
        slack_user_id=str(user.get("id", "")),
        slack_user_name=user.get("username") or user.get("name"),
        comment=comment,
        channel=container.get("channel_id"),
        message_ts=container.get("message_ts") if clicked_is_ours else None,
    )


def _shows_approval(body: dict[str, Any], approval_id: str) -> bool:
    """Whether the clicked message carries this approval's buttons (its actions block)."""
    blocks = (body.get("message") or {}).get("blocks")
    if not isinstance(blocks, list):
        return False
    wanted = f"{APPROVAL_ACTIONS_BLOCK_PREFIX}{approval_id}"
    return any(isinstance(block, dict) and block.get("block_id") == wanted for block in blocks)


async def button_approval_id(action: dict[str, Any], respond: Respond) -> str | None:
    """The approval id a button carries, or None after telling the clicker the button is broken."""
    approval_id = str(action.get("value", ""))
    if is_approval_id(approval_id):
        return approval_id
    await reply(respond, error_message("This button does not carry a valid approval id."))
    return None


def from_app_home(body: dict[str, Any]) -> bool:
    """Whether the click came from a view (the App Home): there is no message and no response_url."""
    return (body.get("container") or {}).get("type") == "view" and not from_details_modal(body)


def from_details_modal(body: dict[str, Any]) -> str | None:
    """The id of the modal (the Details modal) the click came from; ``None`` for any other place."""
    view = body.get("view") or {}
    if (body.get("container") or {}).get("type") != "view" or view.get("type") != "modal":
        return None
    return str(view.get("id") or "") or None


class ApprovalButtonsListener:
    """Acks every click at once; the decision (or opening the reject dialog) runs in the background."""

    def __init__(
        self,
        decisions: DecisionService,
        *,
        work: BackgroundWork,
        responses: ResponseUrls,
        home: AppHome | None = None,
    ) -> None:
        self._decisions = decisions
        self._work = work
        self._responses = responses
        self._home = home

    async def _answer_on_home(self, body: dict[str, Any], result: DecisionResult) -> bool:
        """Answers a click from the App Home on the Home itself (a decision refreshes it already);
        False when the click came from a message."""
        if self._home is None or not from_app_home(body):
            return False
        if not result.ok:
            await self._home.publish(str((body.get("user") or {}).get("id", "")), notice=result.message)
        return True

    async def on_approve(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        respond = self._responses.to(body.get("response_url"))
        modal = from_details_modal(body)
        job = self._approve_in_modal(body, action, client) if modal else self._approve(body, action, respond)
        await ack_action_then(ack, self._work, job, "the Approve button", respond)

    async def on_reject(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        respond = self._responses.to(body.get("response_url"))
        job = self._open_reject_dialog(body, action, respond, client)
        await ack_action_then(ack, self._work, job, "the Reject button", respond)

    async def _approve(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        approval_id = await button_approval_id(action, respond)
        if approval_id is None:
            return
        request = decision_request(body, approval_id, Decision.APPROVE, None)
        if self._home is not None and from_app_home(body):
            self._home.in_view(request.slack_user_id)

        async def tell(message: Message) -> None:
            if self._home is not None and from_app_home(body):
                await self._home.publish(request.slack_user_id, notice=message[0])
            else:
                await reply(respond, message)

        try:
            result = await decide_telling_delay(self._decisions, request, tell)
        except Exception:
            await reply_unexpected(respond, "the Approve button")
            return
        if await self._answer_on_home(body, result):
            return
        ephemeral_card = bool((body.get("container") or {}).get("is_ephemeral"))
        if ephemeral_card and result.outcome in CLOSES_THE_QUESTION:
            await reply(respond, notice(result.told), replace_original=True)
        elif not result.ok:
            await reply(respond, error_message(result.message))
        elif result.outcome is Outcome.VOTED:  # the two-person rule: say what is still missing
            await reply(respond, notice(result.told))
        elif not result.card_updated:  # done, but the card could not show it: say so
            await reply(respond, (result.told, []))

    async def _approve_in_modal(
        self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """A click on Approve in the Details modal: the same decision, told on the modal."""
        approval_id = str(action.get("value", ""))
        if not is_approval_id(approval_id):
            return
        request = decision_request(body, approval_id, Decision.APPROVE, None)

        async def tell(message: Message) -> None:
            await self._tell_in_modal(body, client, message, closed=False)

        try:
            result = await decide_telling_delay(self._decisions, request, tell)
        except Exception:
            log.exception("approving %s from its details failed", approval_id)
            await tell(
                error_message(f"Something went wrong while approving {approval_id}; nothing is confirmed.")
            )
            return
        closed = result.ok or result.outcome in CLOSES_THE_QUESTION
        told = notice(result.told) if result.ok else error_message(result.message)
        await self._tell_in_modal(body, client, told, closed=closed)

    @staticmethod
    async def _tell_in_modal(
        body: dict[str, Any], client: AsyncWebClient, message: Message, *, closed: bool
    ) -> None:
        view = body.get("view") or {}
        shown = with_outcome(view, message[0], closed=closed)
        try:
            await client.views_update(view_id=view.get("id"), view=shown)
        except SlackApiError as error:
            log.warning("could not tell the outcome on the details modal: %s", slack_error_code(error))

    async def _open_reject_dialog(
        self, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        approval_id = await button_approval_id(action, respond)
        if approval_id is None:
            return
        request = decision_request(body, approval_id, Decision.REJECT, None)
        try:
            # Refuse before the modal: a non-approver should not type a reason for nothing.
            # Opened within the trigger's 3 s: a slow approver lookup is skipped (the decision re-checks).
            try:
                async with asyncio.timeout(REFUSAL_CHECK_SECONDS):
                    refusal = await self._decisions.refusal(request)
            except TimeoutError:
                refusal = None
            modal = from_details_modal(body)
            if refusal is not None:
                if modal:
                    await self._tell_in_modal(body, client, error_message(refusal.message), closed=True)
                elif not await self._answer_on_home(body, refusal):
                    await reply(respond, error_message(refusal.message))
                return
            view = reject_modal(
                approval_id,
                channel=request.channel,
                message_ts=request.message_ts,
                response_url=body.get("response_url"),
                details_view_id=modal,
            )
            if modal:  # on top of the Details modal, which then shows the outcome
                await client.views_push(trigger_id=body.get("trigger_id"), view=view)
            else:
                await client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as error:
            await reply(
                respond,
                error_message(f"Slack could not open the reject dialog ({slack_error_code(error)})."),
            )
        except Exception:
            await reply_unexpected(respond, "the Reject button")
