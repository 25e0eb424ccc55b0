"""A reminder's Remind me in 1 h / Tomorrow morning buttons: the clicker's next reminder of that
approval comes then (posted by the reminders poller, in the card's thread, within quiet hours' rules
and ``APPROVALS_REMIND_MAX``). Only the approval's approvers may snooze it; each snooze is audited."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.background import BackgroundWork
from bot.notifier.reminders import SNOOZE_HOUR, SNOOZE_MORNING
from bot.services.decisions import DecisionService
from bot.slack.inbound.listeners.actions.approval_buttons import button_approval_id
from bot.slack.inbound.listeners.replies import ack_action_then, reply, reply_unexpected
from bot.slack.outbound.blocks.help import error_message, notice
from bot.slack.outbound.blocks.ids import SNOOZE_HOUR_ACTION_ID
from bot.slack.outbound.responses import Respond, ResponseUrls
from bot.storage.records import AuditEntry

WHEN = {SNOOZE_HOUR: "in an hour", SNOOZE_MORNING: "tomorrow morning"}


class SnoozeListener:
    def __init__(self, decisions: DecisionService, *, work: BackgroundWork, responses: ResponseUrls) -> None:
        self._decisions = decisions
        self._work = work
        self._responses = responses

    async def on_snooze(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        respond = self._responses.to(body.get("response_url"))
        await ack_action_then(
            ack, self._work, self._snooze(body, action, respond), "the snooze button", respond
        )

    async def _snooze(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        approval_id = await button_approval_id(action, respond)
        if approval_id is None:
            return
        user = body.get("user") or {}
        user_id = str(user.get("id", ""))
        kind = SNOOZE_HOUR if action.get("action_id") == SNOOZE_HOUR_ACTION_ID else SNOOZE_MORNING
        try:
            allowed = await self._decisions.may_decide(approval_id, user_id)
            outcome = "ok" if allowed else "refused"
            entry = AuditEntry(
                user_id, "snooze", approval_id, outcome, detail=kind, slack_user_name=user.get("name")
            )
            await self._decisions.record(entry)
            if not allowed:
                await reply(
                    respond, error_message("Only this approval's approvers can snooze its reminders.")
                )
                return
            await self._decisions.snooze_reminder(approval_id, user_id, kind)
        except Exception:
            await reply_unexpected(respond, "the snooze button")
            return
        await reply(respond, notice(f"I will remind you of approval {approval_id} {WHEN[kind]}."))
