"""A bot starting on an empty database finds its cards already in the channel and keeps them.

The volume was lost, or a fresh database was configured by mistake: the approvals are still pending
and their cards are still in the channel, each with the approval id in its metadata. The new bot
adopts them (the card it later updates is the one people see) instead of posting them again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL


def test_a_bot_on_an_empty_database_adopts_the_cards_already_in_the_channel(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    first = start_bot(database_url=f"sqlite:///{tmp_path / 'lost.db'}")
    posted = [commerce.add_approval(ApprovalKind.ORDER) for _ in range(3)]
    first.poll_approvals()
    cards = {
        m.metadata["event_payload"]["approval_id"]: m.ts
        for m in slack.top_level_messages(APPROVALS_CHANNEL)
        if m.metadata
    }
    assert set(cards) == set(posted)
    first.stop()

    fresh = start_bot(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    later = commerce.add_approval(ApprovalKind.ORDER)
    fresh.poll_approvals()

    posts = [c for c in slack.calls("chat.postMessage") if c.get("channel") == APPROVALS_CHANNEL]
    assert len(posts) == 4, "the three cards are adopted, only the new approval gets one"
    for approval_id, ts in cards.items():
        card = fresh.call(fresh.runtime.store.get_card(approval_id))
        assert card is not None and card.ts == ts
    assert fresh.call(fresh.runtime.store.get_card(later)) is not None

    commerce.decide_elsewhere(posted[0], ApprovalState.APPROVED)
    fresh.poll_approvals()
    assert [u["ts"] for u in slack.calls("chat.update")] == [cards[posted[0]]]
