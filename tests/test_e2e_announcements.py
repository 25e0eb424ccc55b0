"""New cards go out through the announcer: polling goes on during a backlog, and an approval decided
while its card waits in the queue is never posted."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL
from tests.waiting import wait_for


def cards_for(slack: SlackEmulator, approval_id: str) -> list[dict[str, object]]:
    return [
        c
        for c in slack.calls("chat.postMessage")
        if c.get("channel") == APPROVALS_CHANNEL
        and f'"value": "{approval_id}"' in json.dumps(c.get("blocks"))
    ]


def listings(commerce: CommerceEmulator) -> int:
    return len([r for r in commerce.requests if r.method == "GET" and r.path.endswith("/approval_status")])


def test_polling_goes_on_during_a_backlog_and_a_decided_approval_is_not_posted(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    ids = [commerce.add_approval(ApprovalKind.ORDER) for _ in range(8)]
    bot = start_bot(notifier_enabled=True, approvals_poll_seconds=0.1, slack_post_interval_seconds=0.4)

    wait_for(lambda: cards_for(slack, ids[0]), what="the first card of the backlog")
    listings_at_first_card = listings(commerce)
    last = ids[-1]
    commerce.decide_elsewhere(last, ApprovalState.APPROVED)  # still queued: 7 cards stand before it
    wait_for(lambda: cards_for(slack, ids[-2]), timeout=30, what="the rest of the backlog")

    # The approvals poll kept listing while the backlog was being posted (each list is 2 GETs).
    assert listings(commerce) - listings_at_first_card >= 4
    assert cards_for(slack, last) == []
    assert bot.call(bot.runtime.store.get_card(last)) is None
    for approval_id in ids[:-1]:
        assert len(cards_for(slack, approval_id)) == 1
