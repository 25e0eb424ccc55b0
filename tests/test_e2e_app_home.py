"""End to end: the App Home tab for an approver and for anyone else, paging, and deciding from it."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    HOME_OLDER_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
)
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER, APPROVER_GROUP, GROUP_MEMBER, OUTSIDER, PROCESS_CHANNEL, SECOND_APPROVER
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import click, decision_posts, post_card
from tests.waiting import stays, wait_for

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def add_pending(commerce: CommerceEmulator, count: int) -> list[str]:
    """``count`` pending approvals submitted a minute apart, oldest first."""
    return [
        commerce.add_approval(
            ApprovalKind.ORDER if i % 2 else ApprovalKind.BUYER, submit_time=START + timedelta(minutes=i)
        )
        for i in range(count)
    ]


def listed_ids(view: dict[str, Any]) -> list[str]:
    """The approvals the view offers buttons for, top to bottom."""
    return [
        e["value"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == APPROVE_ACTION_ID
    ]


def open_home(sender: SlackRequestSender, slack: SlackEmulator, user: str) -> dict[str, Any]:
    publishes = len(slack.calls("views.publish"))
    assert sender.app_home_opened(user).status_code == 200
    wait_for(lambda: len(slack.calls("views.publish")) > publishes, what="the Home view")
    view = slack.home_view(user)
    assert view is not None
    return view


def test_an_approver_sees_pending_approvals_newest_first_with_buttons_and_a_pager(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    ids = add_pending(commerce, 30)

    view = open_home(sender, slack, APPROVER)

    assert view["type"] == "home"
    assert listed_ids(view) == ids[::-1][:25]  # a page holds a whole selection
    buttons = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons.count(REJECT_ACTION_ID) == 25
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "30 pending, newest first · showing 1\u201325" in text
    assert HOME_OLDER_ACTION_ID in buttons

    publishes = len(slack.calls("views.publish"))
    sender.home_action(HOME_OLDER_ACTION_ID, "2", APPROVER)
    wait_for(lambda: len(slack.calls("views.publish")) > publishes, what="page 2")
    page_two = slack.home_view(APPROVER)
    assert page_two is not None
    assert listed_ids(page_two) == ids[::-1][25:30]


def test_a_member_of_an_approver_group_gets_the_approver_home(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    ids = add_pending(commerce, 2)
    assert listed_ids(open_home(sender, slack, GROUP_MEMBER)) == ids[::-1]


def test_anyone_else_learns_what_the_bot_does_and_who_approves(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    add_pending(commerce, 3)
    assert bot.call(bot.runtime.store.add_watch("9876543", PROCESS_CHANNEL, OUTSIDER))

    view = open_home(sender, slack, OUTSIDER)

    assert listed_ids(view) == []
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "approval requests" in text
    assert f"<@{APPROVER}> <@{SECOND_APPROVER}> <!subteam^{APPROVER_GROUP}>" in text
    assert "`9876543` in <#C_PROCESSES>" in text


def test_approving_from_home_goes_through_the_decision_path_and_refreshes_the_home(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    first, second = add_pending(commerce, 2)
    bot.poll_approvals()
    open_home(sender, slack, APPROVER)
    publishes = len(slack.calls("views.publish"))

    assert sender.home_action(APPROVE_ACTION_ID, second, APPROVER).status_code == 200

    wait_for(lambda: len(slack.calls("views.publish")) > publishes, what="the refreshed Home")
    assert len(decision_posts(commerce, second)) == 1
    assert commerce.approval(second)["status"] == "1"
    view = slack.home_view(APPROVER)
    assert view is not None
    assert listed_ids(view) == [first]
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert f"Approved approval `{second}`" in text  # in "Your last decisions"


def test_a_decision_on_a_channel_card_republishes_the_home_only_once_it_was_opened(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    def thread_replies() -> int:
        return sum(1 for c in slack.calls("chat.postMessage") if c.get("thread_ts"))

    approval_id, ts = post_card(bot, slack, commerce)
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    # The decision's thread reply and the Home's refresh both follow its record.
    wait_for(lambda: thread_replies() == 1, what="the decision's thread reply")
    assert stays(lambda: not slack.calls("views.publish"))  # never opened: opening it publishes it

    open_home(sender, slack, APPROVER)
    publishes = len(slack.calls("views.publish"))
    approval_id, ts = post_card(bot, slack, commerce)
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    wait_for(lambda: len(slack.calls("views.publish")) > publishes, what="the refreshed Home")
    view = slack.home_view(APPROVER)
    assert view is not None
    assert f"Approved approval `{approval_id}`" in json.dumps(view["blocks"], ensure_ascii=False)


def test_a_refused_click_on_home_is_explained_on_home(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    (approval_id,) = add_pending(commerce, 1)
    commerce.decide_elsewhere(approval_id, ApprovalState.APPROVED)
    publishes = len(slack.calls("views.publish"))

    sender.home_action(APPROVE_ACTION_ID, approval_id, APPROVER)

    wait_for(lambda: len(slack.calls("views.publish")) > publishes, what="the Home with a notice")
    view = slack.home_view(APPROVER)
    assert view is not None
    assert "no longer pending" in json.dumps(view["blocks"])
    assert decision_posts(commerce, approval_id) == []


def test_a_backlog_of_500_still_fits_slacks_limits(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    add_pending(commerce, 500)
    for n in range(30):
        assert bot.call(bot.runtime.store.add_watch(f"{n:07d}", PROCESS_CHANNEL, APPROVER))

    view = open_home(sender, slack, APPROVER)  # the emulator refuses views over Slack's limits

    assert len(view["blocks"]) <= 100
    assert len(listed_ids(view)) == 25
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])


def test_rejecting_from_home_asks_for_a_reason_and_tells_the_outcome_on_home(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    (approval_id,) = add_pending(commerce, 1)
    bot.poll_approvals()

    sender.home_action(REJECT_ACTION_ID, approval_id, APPROVER)
    opened = wait_for(lambda: slack.calls("views.open"), what="the reject modal")[0]
    view = opened["view"]
    publishes = len(slack.calls("views.publish"))
    sender.view_submission(
        view["callback_id"],
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "not in budget"}}},
        user_id=APPROVER,
    )

    wait_for(lambda: len(slack.calls("views.publish")) > publishes, what="the refreshed Home")
    assert commerce.approval(approval_id)["status"] == "2"
    view = slack.home_view(APPROVER)
    assert view is not None
    assert listed_ids(view) == []
    assert f"Rejected approval `{approval_id}`" in json.dumps(view, ensure_ascii=False)
    assert "not in budget" in json.dumps(view, ensure_ascii=False)


def test_a_failed_rejection_from_home_is_explained_on_home(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    (approval_id,) = add_pending(commerce, 1)
    sender.home_action(REJECT_ACTION_ID, approval_id, APPROVER)
    view = wait_for(lambda: slack.calls("views.open"), what="the reject modal")[0]["view"]
    commerce.decide_elsewhere(approval_id, ApprovalState.APPROVED)  # while the modal is open

    sender.view_submission(
        view["callback_id"],
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "not in budget"}}},
        user_id=APPROVER,
    )

    wait_for(
        lambda: "no longer pending" in json.dumps(slack.home_view(APPROVER) or {}),
        what="the explanation on Home",
    )
    assert decision_posts(commerce, approval_id) == []


def test_decisions_made_while_the_home_is_being_refreshed_fold_into_one_more_refresh(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approvals = add_pending(commerce, 4)
    bot.poll_approvals()
    open_home(sender, slack, APPROVER)
    publishes = len(slack.calls("views.publish"))
    publishing, release = threading.Event(), threading.Event()

    def hold_the_first_refresh(request: RecordedRequest) -> Response | None:
        if request.path.endswith("views.publish") and not publishing.is_set():
            publishing.set()
            release.wait(timeout=10)
        return None

    slack.inject(hold_the_first_refresh)
    assert sender.home_action(APPROVE_ACTION_ID, approvals[0], APPROVER).status_code == 200
    wait_for(publishing.is_set, what="the first refresh on its way")
    for approval_id in approvals[1:]:
        assert sender.home_action(APPROVE_ACTION_ID, approval_id, APPROVER).status_code == 200
    # Each decision's Home refresh is asked for in the same turn of the bot's loop as its reply in the
    # card's thread, and before the loop can read the held publish's answer. A decision seen in the
    # store is not enough: its refresh may still be on its way, and would then publish a third time.
    wait_for(
        lambda: sum(1 for c in slack.calls("chat.postMessage") if c.get("thread_ts")) == 4,
        what="every decision replied in its thread",
    )
    release.set()

    wait_for(lambda: len(slack.calls("views.publish")) == publishes + 2, what="one more refresh")
    view = slack.home_view(APPROVER)
    assert view is not None
    assert listed_ids(view) == []
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert all(f"Approved approval `{approval_id}`" in text for approval_id in approvals)
    assert len(slack.calls("views.publish")) == publishes + 2  # not one refresh per decision
