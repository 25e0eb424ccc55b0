"""``/approvals list|show|approve|reject|digest|whoami|help``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.background import BackgroundWork
from bot.commerce.client import CommerceClient
from bot.commerce.errors import ApprovalNotFound, CommerceError, CommerceUnavailable
from bot.commerce.models import Decision
from bot.metrics import Metrics
from bot.services.decisions import DecisionRequest, DecisionService
from bot.services.identity import DecideAs
from bot.services.order_details import OrderDetails
from bot.services.ports import ApproverDirectory
from bot.slack.inbound.listeners.progress import decide_telling_delay
from bot.slack.inbound.listeners.replies import ack_command_then, ack_with, reply, reply_unexpected
from bot.slack.inbound.parsing.approvals import (
    ApprovalsCommand,
    ApproveApproval,
    ListApprovals,
    RejectApproval,
    ShowApproval,
    ShowDigest,
    ShowWhoami,
    parse_approvals_command,
)
from bot.slack.inbound.parsing.common import ShowHelp
from bot.slack.outbound.blocks.approval_card import approval_detail, approvals_list
from bot.slack.outbound.blocks.help import approvals_help, error_message, notice
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.blocks.whoami import WhoamiFacts, whoami_message
from bot.slack.outbound.digest import DailyDigest
from bot.slack.outbound.responses import Respond, ResponseUrls
from bot.slack.outbound.viewers import VIEWERS_REFUSAL, SlackViewerDirectory


@dataclass(frozen=True)
class CommandAccess:
    """Who may act on approvals (``approvers``) and who may list and read them (``viewers``)."""

    approvers: ApproverDirectory
    viewers: SlackViewerDirectory


class ApprovalsCommandListener:
    def __init__(
        self,
        commerce: CommerceClient,
        decisions: DecisionService,
        order_details: OrderDetails,
        metrics: Metrics,
        *,
        access: CommandAccess,
        work: BackgroundWork,
        responses: ResponseUrls,
        digest: DailyDigest | None = None,
    ) -> None:
        self._digest = digest
        self._commerce = commerce
        self._decisions = decisions
        self._approvers = access.approvers
        self._order_details = order_details
        self._metrics = metrics
        self._work = work
        self._responses = responses
        self._viewers = access.viewers

    async def handle(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """Help and input errors are answered in the ack; everything else after it, in the background."""
        parsed = parse_approvals_command(
            command.get("text") or "",
            user_id=str(command.get("user_id", "")),
            user_name=command.get("user_name"),
        )
        self._metrics.commands.labels("/approvals", type(parsed).__name__).inc()
        if isinstance(parsed, ShowHelp):
            await ack_with(ack, approvals_help(parsed.error))
            return
        respond = self._responses.to(command.get("response_url"))
        await ack_command_then(
            ack, self._work, self._answer_and_reply(parsed, command, respond), "/approvals"
        )

    async def _answer_and_reply(
        self, parsed: ApprovalsCommand, command: dict[str, Any], respond: Respond
    ) -> None:
        try:
            message = await self._answer(parsed, command, respond)
        except ApprovalNotFound as error:
            message = error_message(f"Commerce has no approval with that id ({error.message}).")
        except CommerceUnavailable as error:  # its message names Commerce and what went wrong
            message = error_message(f"{error.message}; try again shortly.")
        except CommerceError as error:
            message = error_message(f"Commerce could not answer: {error.message}")
        except Exception:
            await reply_unexpected(respond, "/approvals")
            return
        await reply(respond, message)

    async def _answer(self, parsed: ApprovalsCommand, command: dict[str, Any], respond: Respond) -> Message:
        user_id = str(command.get("user_id", ""))
        reads = ListApprovals | ShowApproval | ShowDigest
        if isinstance(parsed, reads) and not await self._viewers.may_view(user_id):
            return error_message(VIEWERS_REFUSAL)
        match parsed:
            case ListApprovals(query=query):
                for_user_id = await self._decisions.identities.listing_user_id(user_id)
                return approvals_list(
                    await self._commerce.list_approvals(query, for_user_id=for_user_id), query
                )
            case ShowApproval(approval_id=approval_id):
                approval = await self._commerce.get_approval(approval_id)
                return approval_detail(
                    approval,
                    can_act=await self._approvers.is_any_approver(user_id),
                    order=await self._order_details.for_approval(approval),
                )
            case ApproveApproval(approval_id=approval_id, comment=comment):
                return await self._decide(command, approval_id, Decision.APPROVE, comment, respond)
            case RejectApproval(approval_id=approval_id, reason=reason):
                return await self._decide(command, approval_id, Decision.REJECT, reason, respond)
            case ShowDigest():
                if self._digest is None:
                    return error_message("The digest is not available in this bot.")
                return await self._digest.compose()
            case ShowWhoami():
                return await self._whoami(user_id)
            case ShowHelp(error=error):  # answered in the ack; kept for completeness
                return approvals_help(error)

    async def _whoami(self, user_id: str) -> Message:
        identities = self._decisions.identities
        facts = await identities.whoami(user_id, is_approver=await self._approvers.is_any_approver(user_id))
        link = facts.link
        return whoami_message(
            WhoamiFacts(
                slack_user_id=user_id,
                commerce_logon_id=link.commerce_logon_id if link else None,
                commerce_user_id=link.commerce_user_id if link else None,
                linked_by=link.linked_by if link else None,
                is_approver=facts.is_approver,
                decides_as_linked_user=facts.decide_as is DecideAs.LINKED_USER,
                allow_self_approval=facts.allow_self_approval,
            )
        )

    async def _decide(
        self,
        command: dict[str, Any],
        approval_id: str,
        decision: Decision,
        comment: str | None,
        respond: Respond,
    ) -> Message:
        request = DecisionRequest(
            approval_id=approval_id,
            decision=decision,
            slack_user_id=str(command.get("user_id", "")),
            slack_user_name=command.get("user_name"),
            comment=comment,
        )

        async def tell(message: Message) -> None:
            await reply(respond, message)

        result = await decide_telling_delay(self._decisions, request, tell)
        return notice(result.told) if result.ok else error_message(result.message)
