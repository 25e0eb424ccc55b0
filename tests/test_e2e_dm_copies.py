"""End to end: a route with ``notify: dm`` sends its approvers the card as a direct message too, and
a decision anywhere (the channel card or a copy) updates every copy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, dm_channel
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SECOND_APPROVER, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import action_ids, decision_posts
from tests.waiting import wait_for

DM_ROUTES = f"""
routes:
  - name: orders-by-dm
    channel: {APPROVALS_CHANNEL}
    match: {{kind: order}}
    approvers: [{APPROVER}, {SECOND_APPROVER}]
    notify: dm
"""


def start(start_bot: Callable[..., RunningBot], tmp_path: Path) -> RunningBot:
    routes = tmp_path / "routes.yaml"
    routes.write_text(DM_ROUTES)
    return start_bot(approvals_routes_file=str(routes))


def copies(slack: SlackEmulator, user: str) -> list[Any]:
    return slack.top_level_messages(dm_channel(user))


def test_approvers_of_a_dm_route_get_the_card_and_a_click_on_a_copy_updates_every_copy(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    bot = start(start_bot, tmp_path)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    buyer = commerce.add_approval(ApprovalKind.BUYER)  # not on the route: no copies

    assert bot.poll_approvals() == 2

    (mine,) = copies(slack, APPROVER)
    (theirs,) = copies(slack, SECOND_APPROVER)
    assert approval_id in json.dumps(mine.blocks) and buyer not in json.dumps(mine.blocks)
    assert APPROVE_ACTION_ID in action_ids(mine.blocks)
    (card,) = [m for m in slack.top_level_messages(APPROVALS_CHANNEL) if approval_id in json.dumps(m.blocks)]

    sender.block_action(
        APPROVE_ACTION_ID,
        approval_id,
        APPROVER,
        channel_id=mine.channel,
        message_ts=mine.ts,
        message_blocks=mine.blocks,
    )

    def all_decided() -> bool:
        shown = [slack.message(m.channel, m.ts) for m in (mine, theirs, card)]
        return all(
            APPROVE_ACTION_ID not in action_ids(m.blocks) and "Approved" in json.dumps(m.blocks)
            for m in shown
        )

    wait_for(all_decided, what="every copy and the card decided")
    assert len(decision_posts(commerce, approval_id)) == 1
    assert bot.call(bot.runtime.store.card_copies_of(approval_id))  # recorded


def test_an_approval_decided_in_commerce_closes_the_copies_too(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    bot = start(start_bot, tmp_path)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    bot.poll_approvals()
    commerce.decide_elsewhere(approval_id, ApprovalState.REJECTED, "no")

    bot.poll_approvals()

    def closed(user: str) -> bool:
        (copy,) = copies(slack, user)
        return "Rejected in Commerce" in json.dumps(slack.message(copy.channel, copy.ts).blocks)

    wait_for(lambda: closed(APPROVER) and closed(SECOND_APPROVER), what="the closed copies")
