"""Closing cards decided in Commerce: only from a complete listing, only after Slack accepted the
rewrite, and within chat.update's rate budget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.notifier.approvals import OPEN_CARDS_PAGE
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.storage.records import CardState
from bot.storage.schema import approval_cards
from tests.bot_runner import RunningBot
from tests.store_helpers import claim_decision


def card_state(bot: RunningBot, approval_id: str) -> CardState:
    card = bot.call(bot.runtime.store.get_card(approval_id))
    assert card is not None
    return card.state


def is_listing(request: RecordedRequest) -> bool:
    return request.method == "GET" and request.path.endswith("/approval_status")


def is_update(request: RecordedRequest) -> bool:
    return request.path.endswith("/chat.update")


def test_an_incomplete_listing_closes_no_card(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    assert bot.poll_approvals() == 1
    commerce.decide_elsewhere(approval_id, ApprovalState.APPROVED)
    # Commerce says there are 1000 pending and sends one, again and again: a listing cut short.
    stuck = {
        "recordSetTotal": "1000",
        "recordSetStartNumber": "0",
        "resultList": [{"approvalStatusId": "99999", "status": "0", "entityId": "1", "submitterId": "2"}],
    }
    commerce.fail_next(4, Response(body=stuck), when=is_listing)

    bot.poll_approvals()

    assert card_state(bot, approval_id) is CardState.PENDING
    assert slack.calls("chat.update") == []
    assert bot.runtime.metrics.registry.get_sample_value("approvals_listings_incomplete_total") == 1
    bot.poll_approvals()  # a complete listing again
    assert card_state(bot, approval_id) is CardState.DECIDED_ELSEWHERE


def test_a_card_slack_would_not_rewrite_stays_open_and_is_closed_next_round(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    bot.poll_approvals()
    commerce.decide_elsewhere(approval_id, ApprovalState.REJECTED)
    slack.fail_next(1, Response(body={"ok": False, "error": "internal_error"}), when=is_update)

    bot.poll_approvals()
    assert card_state(bot, approval_id) is CardState.PENDING  # not marked closed: its buttons are still live

    bot.poll_approvals()
    assert card_state(bot, approval_id) is CardState.DECIDED_ELSEWHERE
    (update,) = slack.calls("chat.update")
    assert "Rejected in Commerce" in str(update["blocks"])


def test_closing_cards_keeps_within_the_chat_update_budget(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(approvals_poll_seconds=2.4)  # 50 updates a minute -> 2 a round
    ids = [commerce.add_approval(ApprovalKind.ORDER) for _ in range(5)]
    assert bot.poll_approvals() == 5
    for approval_id in ids:
        commerce.decide_elsewhere(approval_id, ApprovalState.APPROVED)

    closed_per_round = []
    for _ in range(3):
        before = len(slack.calls("chat.update"))
        bot.poll_approvals()
        closed_per_round.append(len(slack.calls("chat.update")) - before)

    assert closed_per_round == [2, 2, 1]
    assert {card_state(bot, approval_id) for approval_id in ids} == {CardState.DECIDED_ELSEWHERE}


def test_closing_goes_oldest_first_across_pages_of_open_cards_and_passes_one_being_decided(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator
) -> None:
    bot = start_bot(approvals_poll_seconds=2.4)  # 2 closings a round
    # More open cards than one page of them, none pending in Commerce any more; the oldest have the
    # highest ids, so the page order (by id) is not the closing order (oldest first).
    count = OPEN_CARDS_PAGE + 5
    first_posted = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "approval_id": f"{90_000 + n}",
            "kind": "order",
            "state": CardState.PENDING.value,
            "channel": "C_CARDS",
            "ts": f"1700000000.{n:06d}",
            "posted_at": first_posted + timedelta(minutes=count - n),
            "updated_at": first_posted,
        }
        for n in range(count)
    ]

    async def arrange() -> None:
        async with bot.runtime.store.engine.begin() as conn:
            await conn.execute(insert(approval_cards), rows)
        oldest = str(rows[-1]["approval_id"])
        assert await claim_decision(bot.runtime.store, oldest, "U_CLICKER", "approve") is None

    bot.call(arrange())
    bot.poll_approvals()

    updated = [call["ts"] for call in slack.calls("chat.update")]
    assert updated == [rows[-2]["ts"], rows[-3]["ts"]]  # the oldest is being decided: passed over
