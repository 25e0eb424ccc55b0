"""The reject modal's submission: a required reason, then the decision."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import BUSY_MESSAGE, BackgroundWork
from bot.commerce.models import Decision
from bot.limits import REASON_MIN_LENGTH, characters_over, too_long_for_commerce
from bot.services.decisions import DecisionRequest, DecisionService
from bot.slack.inbound.listeners.progress import decide_telling_delay
from bot.slack.outbound.blocks.details import outcome_view
from bot.slack.outbound.blocks.help import error_message, notice
from bot.slack.outbound.blocks.ids import REASON_ACTION_ID, REASON_BLOCK_ID
from bot.slack.outbound.blocks.reject_modal import RejectContext, parse_reject_metadata
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import SlackPoster, slack_error_code
from bot.slack.outbound.responses import ResponseUrls

log = logging.getLogger(__name__)


def submitted_reason(view: dict[str, Any]) -> str:
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(REASON_BLOCK_ID) or {}).get(REASON_ACTION_ID) or {}).get("value") or "").strip()


def _errors(text: str) -> dict[str, Any]:
    """An ack that keeps the modal open with ``text`` under the reason field."""
    return {"response_action": "errors", "errors": {REASON_BLOCK_ID: text}}


class RejectModalListener:
    """Checks the submission in the ack (the modal stays open on errors); decides in the background."""

    def __init__(
        self,
        decisions: DecisionService,
        poster: SlackPoster,
        *,
        work: BackgroundWork,
        responses: ResponseUrls,
        home: AppHome | None = None,
    ) -> None:
        self._decisions = decisions
        self._poster = poster
        self._work = work
        self._responses = responses
        self._home = home

    async def on_submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        reason = submitted_reason(view)
        if len(reason) < REASON_MIN_LENGTH:
            await ack(**_errors(f"Please give a reason (at least {REASON_MIN_LENGTH} characters)."))
            return
        try:
            context = parse_reject_metadata(str(view.get("private_metadata") or ""))
        except ValueError:
            await ack(**_errors("This dialog is broken; close it and click Reject again."))
            return
        user = body.get("user") or {}
        request = DecisionRequest(
            approval_id=context.approval_id,
            decision=Decision.REJECT,
            slack_user_id=str(user.get("id", "")),
            slack_user_name=user.get("username") or user.get("name"),
            comment=reason,
            channel=context.channel,
            message_ts=context.message_ts,
        )
        cut = characters_over(request.decision.verb, request.slack_user_id, request.slack_user_name, reason)
        if cut:
            await ack(**_errors(too_long_for_commerce("reason", cut)))
            return
        job = self._reject_in_details(request, context, client) if context.details_view_id else None
        if self._work.start(job or self._reject(request, context), name="the reject dialog"):
            await ack()
        else:
            await ack(**_errors(BUSY_MESSAGE))

    async def _reject(self, request: DecisionRequest, context: RejectContext) -> None:
        user_id = request.slack_user_id
        ok = False
        # Opened from the App Home: no card, no response_url; the outcome is told on the Home.
        home = self._home if not context.channel and not context.response_url else None
        if home is not None:
            home.in_view(user_id)

        async def tell(message: Message) -> None:
            if home is not None:
                await home.publish(user_id, notice=message[0])
            else:
                await self._tell(user_id, context, message)

        try:
            result = await decide_telling_delay(self._decisions, request, tell)
            ok = result.ok
            message = notice(result.told) if ok else error_message(result.message)
        except Exception:
            log.exception("rejecting approval %s failed", context.approval_id)
            message = error_message(
                f"Something went wrong while rejecting approval {context.approval_id}; nothing is confirmed."
            )
        if home is not None:  # a rejection refreshes the Home already; anything else is said there
            if not ok:
                await home.publish(user_id, notice=message[0])
            return
        await self._tell(user_id, context, message)

    async def _reject_in_details(
        self, request: DecisionRequest, context: RejectContext, client: AsyncWebClient
    ) -> None:
        """Pushed on a Details modal: the outcome replaces that modal's content."""

        async def tell(message: Message) -> None:
            view = outcome_view(request.approval_id, message[0])
            try:
                await client.views_update(view_id=context.details_view_id, view=view)
            except SlackApiError as error:
                log.warning("could not show the reject outcome on the details: %s", slack_error_code(error))

        try:
            result = await decide_telling_delay(self._decisions, request, tell)
        except Exception:
            log.exception("rejecting approval %s failed", context.approval_id)
            await tell(error_message(f"Something went wrong while rejecting approval {context.approval_id}."))
            return
        await tell(notice(result.told) if result.ok else error_message(result.message))

    async def _tell(self, user_id: str, context: RejectContext, message: Message) -> None:
        """Modals have no response_url of their own: the outcome goes back through the clicked card's,
        or else as an ephemeral message in the card's channel."""
        text, blocks = message
        if context.response_url:
            try:
                status = await self._responses.to(context.response_url)(text=text, blocks=blocks)
            except Exception as error:  # expired or unreachable: fall back to an ephemeral message
                log.warning("response_url failed for the reject outcome: %s", type(error).__name__)
            else:
                if status == 200:
                    return
        if not context.channel:
            log.info("no way to report the reject outcome to %s: %s", user_id, text)
            return
        try:
            await self._poster.post_ephemeral(context.channel, user_id, text, blocks)
        except SlackApiError as error:
            log.warning("could not tell %s the reject outcome: %s", user_id, slack_error_code(error))
