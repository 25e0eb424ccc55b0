"""Approve / Reject selected on the App Home: one confirmation, each approval through the decision
path of a single click, one summary.

Invariant: every approval of a selection is decided by ``DecisionService.decide`` (claim, re-read,
route approvers, self-approval, votes, audit), so a selection submitted twice, or on two replicas,
sends nothing to Commerce twice: the claims stop the repeats, which the summary then names. One
submission (one confirmation view) is run once, with one summary: it is claimed in the store first
(``claim_bulk_submission``), so the same submission reaching two replicas, or one twice, runs on one.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import BUSY_MESSAGE, BackgroundWork
from bot.commerce.client import CommerceClient
from bot.commerce.errors import CommerceError
from bot.commerce.models import Decision
from bot.limits import REASON_MIN_LENGTH, characters_over, too_long_for_commerce
from bot.services.decisions import DecisionRequest, DecisionResult, DecisionService, Outcome
from bot.services.order_details import OrderDetails
from bot.slack.inbound.listeners.views.reject_modal import submitted_reason
from bot.slack.outbound.blocks.bulk import (
    BULK_LIMIT,
    BulkOutcome,
    BulkRequest,
    bulk_confirm,
    bulk_loading,
    bulk_summary,
    parse_bulk_metadata,
    selected_ids,
)
from bot.slack.outbound.blocks.ids import REASON_BLOCK_ID
from bot.slack.outbound.blocks.text import section
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import slack_error_code
from bot.storage.records import AuditEntry

log = logging.getLogger(__name__)

TOTALS_READ_SECONDS = 5.0
"""Longest the confirmation waits for the selection's order totals (it is open meanwhile)."""
STORE_DOWN = (
    "The selection was not started: the bot's database did not answer. Nothing was sent to Commerce; "
    "select again in a moment."
)


class SubmissionStore(Protocol):
    """The store operation a selection's submission uses."""

    async def claim_bulk_submission(self, view_id: str, slack_user_id: str) -> bool: ...


CATEGORY = {Outcome.OK: "decided", Outcome.VOTED: "voted", Outcome.ERROR: "failed", Outcome.UNKNOWN: "failed"}


class BulkListener:
    def __init__(
        self,
        decisions: DecisionService,
        commerce: CommerceClient,
        order_details: OrderDetails,
        home: AppHome,
        submissions: SubmissionStore,
        *,
        work: BackgroundWork,
    ) -> None:
        self._decisions = decisions
        self._submissions = submissions
        self._commerce = commerce
        self._order_details = order_details
        self._home = home
        self._work = work

    async def on_select(self, ack: AsyncAck) -> None:
        """Ticking a box needs nothing from the bot: the ticks come with the next button."""
        await ack()

    async def on_bulk(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id", ""))
        ids = selected_ids(body.get("view") or {})
        decision = Decision.APPROVE if action.get("value") == "approve" else Decision.REJECT
        if not ids:
            await self._home.publish(
                user_id, notice="Tick the approvals first, then choose Approve or Reject selected."
            )
            return
        if len(ids) > BULK_LIMIT:
            await self._home.publish(
                user_id,
                notice=f"You selected {len(ids)} approvals; at most {BULK_LIMIT} can be decided at a "
                "time. Untick some and choose again.",
            )
            return
        request = BulkRequest(decision, tuple(ids))
        if not self._work.start(self._confirm(body, request, client), name="Approve/Reject selected"):
            await self._home.publish(user_id, notice=BUSY_MESSAGE)

    async def _confirm(self, body: dict[str, Any], request: BulkRequest, client: AsyncWebClient) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        try:
            opened = await client.views_open(trigger_id=body.get("trigger_id"), view=bulk_loading(request))
            totals, unknown = await self._totals(request.approval_ids)
            view_id = (opened.get("view") or {}).get("id")
            await client.views_update(view_id=view_id, view=bulk_confirm(request, totals, unknown))
        except SlackApiError as error:
            await self._home.publish(
                user_id, notice=f"Slack could not open the confirmation ({slack_error_code(error)})."
            )
        except Exception:
            log.exception("confirming a selection of %d failed", len(request.approval_ids))

    async def _totals(self, approval_ids: tuple[str, ...]) -> tuple[dict[str, Decimal], int]:
        """Summed order totals per currency, and how many have none known (buyers, unreadable)."""

        async def total(approval_id: str) -> tuple[str, Decimal] | None:
            try:
                order = await self._order_details.for_approval(
                    await self._commerce.find_approval(approval_id)
                )
            except (CommerceError, ValueError):
                return None
            if order is None or order.grand_total is None:
                return None
            return order.currency or "", order.grand_total

        try:
            async with asyncio.timeout(TOTALS_READ_SECONDS):
                found = await asyncio.gather(*(total(i) for i in approval_ids))
        except TimeoutError:
            return {}, len(approval_ids)
        totals: dict[str, Decimal] = {}
        for item in found:
            if item is not None:
                totals[item[0]] = totals.get(item[0], Decimal(0)) + item[1]
        return totals, sum(1 for item in found if item is None)

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            request = parse_bulk_metadata(str(view.get("private_metadata") or ""))
        except ValueError:
            await ack(
                response_action="errors", errors={REASON_BLOCK_ID: "This dialog is broken; start again."}
            )
            return
        user = body.get("user") or {}
        user_id, name = str(user.get("id", "")), user.get("username") or user.get("name")
        reason = submitted_reason(view) if request.decision is Decision.REJECT else None
        if reason is not None:
            if len(reason) < REASON_MIN_LENGTH:
                await ack(
                    response_action="errors",
                    errors={
                        REASON_BLOCK_ID: f"Please give a reason (at least {REASON_MIN_LENGTH} characters)."
                    },
                )
                return
            cut = characters_over(request.decision.verb, user_id, name, reason)
            if cut:
                await ack(
                    response_action="errors", errors={REASON_BLOCK_ID: too_long_for_commerce("reason", cut)}
                )
                return
        submission = str(view.get("id") or "")
        decide = self._decide_all(request, submission, user_id, name, reason)
        if not self._work.start(decide, name="a selection"):
            await ack(response_action="errors", errors={REASON_BLOCK_ID: BUSY_MESSAGE})
            return
        await ack()

    async def _decide_all(
        self,
        request: BulkRequest,
        submission: str,
        user_id: str,
        name: str | None,
        reason: str | None,
    ) -> None:
        """Claims the ``submission`` (its view id), then decides each approval of the selection in
        turn, audits the selection and sends the one summary (a direct message, and the Home
        refreshed). A submission claimed before (by another replica, or this one) is left to that
        run: nothing more is sent, to Commerce or to the user."""
        self._home.in_view(user_id)
        if not await self._claimed(submission, user_id):
            return
        outcomes = [
            await self._decide_one(request, approval_id, user_id, name, reason)
            for approval_id in request.approval_ids
        ]
        counts = ", ".join(f"{o.approval_id}={o.category}" for o in outcomes)
        await self._decisions.record(
            AuditEntry(
                user_id,
                f"bulk_{request.decision.action}",
                None,
                "ok",
                comment=reason,
                detail=counts,
                slack_user_name=name,
            )
        )
        text, blocks = bulk_summary(request.decision, outcomes)
        await self._home.tell(user_id, text, blocks)

    async def _claimed(self, submission: str, user_id: str) -> bool:
        """Whether this run may decide the submission; a store that fails is told to the user."""
        if not submission:
            return True  # Slack always names the view; nothing to claim by otherwise
        try:
            if await self._submissions.claim_bulk_submission(submission, user_id):
                return True
        except Exception as error:
            log.warning("selection %s not started: %s", submission, type(error).__name__)
            await self._home.tell(user_id, STORE_DOWN, [section(STORE_DOWN)])
            return False
        log.info("selection %s is already being decided (another replica, or a repeat)", submission)
        return False

    async def _decide_one(
        self, bulk: BulkRequest, approval_id: str, user_id: str, name: str | None, reason: str | None
    ) -> BulkOutcome:
        request = DecisionRequest(approval_id, bulk.decision, user_id, name, reason)
        try:
            result: DecisionResult = await self._decisions.decide(request)
        except Exception as error:
            log.exception("approval %s of a selection failed", approval_id)
            return BulkOutcome(approval_id, "failed", f"something went wrong ({type(error).__name__})")
        category = CATEGORY.get(result.outcome, "refused")
        return BulkOutcome(approval_id, category, result.told if result.ok else result.message)
