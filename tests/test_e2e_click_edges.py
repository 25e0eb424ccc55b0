"""Clicks at the edges: a button on a message that is not its approval's card, and a reject dialog
opened while the approver lookup is slow."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, REJECT_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, APPROVER_GROUP, GROUP_MEMBER, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import card_updates, click, decision_posts, post_card
from tests.waiting import wait_for


def test_a_button_naming_another_approval_does_not_rewrite_the_message_it_sits_on(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, card_ts = post_card(bot, slack, commerce)
    other_ts = "1700000000.999999"  # some other message in the channel, with a forged button on it

    sender.block_action(
        APPROVE_ACTION_ID, approval_id, user_id=APPROVER, channel_id=APPROVALS_CHANNEL, message_ts=other_ts
    )

    wait_for(lambda: card_updates(slack, card_ts), what="the approval's own card updated")
    assert card_updates(slack, other_ts) == []


def test_the_reject_dialog_opens_within_the_trigger_even_when_the_approver_lookup_is_slow(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot()
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, card_ts = post_card(bot, slack, commerce)
    lookup_gate = threading.Event()

    def slow_lookup(request: RecordedRequest) -> Response | None:
        if request.path.endswith("usergroups.users.list"):
            lookup_gate.wait(timeout=20)  # Slack sits on the group lookup until the dialog is open
        return None

    slack.inject(slow_lookup)
    try:
        sender.block_action(
            REJECT_ACTION_ID,
            approval_id,
            user_id=GROUP_MEMBER,
            channel_id=APPROVALS_CHANNEL,
            message_ts=card_ts,
            trigger_id="trigger-1",
        )
        wait_for(lambda: slack.calls("views.open"), timeout=10, what="the reject dialog")
    finally:
        lookup_gate.set()


def test_a_member_removed_from_the_approver_group_can_no_longer_decide_at_once(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    first, first_ts = post_card(bot, slack, commerce)
    second, second_ts = post_card(bot, slack, commerce)
    click(sender, slack, APPROVE_ACTION_ID, first, GROUP_MEMBER, first_ts)
    wait_for(lambda: card_updates(slack, first_ts), what="the first approval decided by the member")

    slack.usergroups = {APPROVER_GROUP: []}  # removed from the group, well within the cache's life
    url = click(sender, slack, APPROVE_ACTION_ID, second, GROUP_MEMBER, second_ts)

    assert "not allowed" in wait_for(lambda: slack.responses(url), what="the refusal")[0]["text"]
    assert decision_posts(commerce, second) == []


def test_a_decided_card_keeps_the_submitter_name_its_card_showed(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    # Buyer approvals come with the submitter's name in the listing, not in a re-read of one approval.
    approval_id, ts = post_card(bot, slack, commerce, kind=ApprovalKind.BUYER)
    card = next(c for c in slack.calls("chat.postMessage") if slack.message_ts(c) == ts)
    assert "Jane Smith" in str(card["blocks"])

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    update = wait_for(lambda: card_updates(slack, ts), what="the decided card")[-1]
    assert "Jane Smith" in str(update["blocks"])
