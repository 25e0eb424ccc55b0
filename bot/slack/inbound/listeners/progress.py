"""A decision that keeps its clicker waiting tells them so: one "still working…" note, then the answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.services.budget import waited
from bot.services.decisions import DecisionRequest, DecisionResult, DecisionService
from bot.slack.outbound.blocks.help import notice
from bot.slack.outbound.blocks.types import Message

log = logging.getLogger(__name__)

Tell = Callable[[Message], Awaitable[object]]


def still_working(approval_id: str, within_seconds: float) -> Message:
    return notice(
        f"Still working on approval {approval_id}: Commerce is slow to answer. The bot waits for it "
        f"{waited(within_seconds)} at most in all, then tells you here how it ended."
    )


async def decide_telling_delay(
    decisions: DecisionService, request: DecisionRequest, tell: Tell
) -> DecisionResult:
    """``decisions.decide(request)``. When it is not done after the budget's few seconds, ``tell``
    gets one "still working…" note first (a note that fails is logged and skipped), so the note
    always comes before the answer. Cancelling this cancels the decision."""
    budget = decisions.budget
    deciding = asyncio.ensure_future(decisions.decide(request))
    try:
        done, _ = await asyncio.wait({deciding}, timeout=budget.still_working_after_seconds)
        if not done:
            try:
                await tell(still_working(request.approval_id, decisions.longest_commerce_wait_seconds))
            except Exception as error:
                log.warning("could not send the still-working note: %s", type(error).__name__)
        return await deciding
    except BaseException:
        deciding.cancel()
        raise
