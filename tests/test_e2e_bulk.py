"""End to end: Approve / Reject selected on the App Home: one confirmation with the totals, each
approval through the single click's path, one summary, and nothing sent twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import (
    BULK_APPROVE_ACTION_ID,
    BULK_MODAL_CALLBACK_ID,
    BULK_REJECT_ACTION_ID,
    HOME_SELECT_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
)
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SECOND_APPROVER, SIGNING_SECRET
from tests.identity_helpers import add_approver, link
from tests.slack_requests import SlackRequestSender
from tests.store_helpers import audit_entries
from tests.test_e2e_approvals import decision_posts
from tests.waiting import stays, wait_for

TWO_PERSON_ROUTES = f"""
routes:
  - name: large-orders
    channel: {APPROVALS_CHANNEL}
    currency: EUR
    match: {{kind: order, min_total: 10000}}
    approvers: [{APPROVER}, {SECOND_APPROVER}]
    required_approvals: 2
"""


def ticked(approval_ids: list[str]) -> dict[str, Any]:
    options = [{"text": {"type": "plain_text", "text": i}, "value": i} for i in approval_ids]
    return {"home_select:0": {HOME_SELECT_ACTION_ID: {"type": "checkboxes", "selected_options": options}}}


def summaries(slack: SlackEmulator) -> list[dict[str, Any]]:
    return [c for c in slack.calls("chat.postMessage") if c.get("channel") == APPROVER]


def confirmation(slack: SlackEmulator, count: int) -> dict[str, Any]:
    def found() -> list[dict[str, Any]]:
        return [v for v in slack.modals.values() if v.get("callback_id") == BULK_MODAL_CALLBACK_ID]

    wait_for(lambda: len(found()) >= count, what="the confirmation")
    return found()[-1]


def test_approve_selected_decides_each_through_the_single_click_path_with_one_summary(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    routes = tmp_path / "routes.yaml"
    routes.write_text(TWO_PERSON_ROUTES)
    bot = start_bot(approvals_routes_file=str(routes))
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    jane = add_approver(commerce, "jane.buyer")
    link(bot, APPROVER, jane)
    plain = commerce.add_approval(ApprovalKind.ORDER, order_total="1234.50", order_currency="EUR")
    large = commerce.add_approval(ApprovalKind.ORDER, order_total="20000.00", order_currency="USD")
    own = commerce.add_approval(ApprovalKind.ORDER, submitter_id=jane.user_id, order_total="100.00")
    gone = commerce.add_approval(ApprovalKind.ORDER, order_total="50.00")
    bot.poll_approvals()
    assert sender.app_home_opened(APPROVER).status_code == 200
    wait_for(lambda: slack.home_view(APPROVER) is not None, what="the Home")
    home = slack.home_view(APPROVER)
    assert home is not None and BULK_APPROVE_ACTION_ID in json.dumps(home["blocks"])
    commerce.decide_elsewhere(gone, ApprovalState.APPROVED)
    selection = [plain, large, own, gone]

    sender.home_action(BULK_APPROVE_ACTION_ID, "approve", APPROVER, state=ticked(selection))

    view = confirmation(slack, 1)
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "*4 approvals* totalling EUR 1,384.50 + USD 20,000.00" in text
    assert view["submit"]["text"] == "Approve 4"
    assert decision_posts(commerce, plain) == []  # nothing before the confirmation

    sender.view_submission(BULK_MODAL_CALLBACK_ID, view["private_metadata"], {}, APPROVER)
    wait_for(lambda: summaries(slack), what="the summary")
    (first,) = (json.dumps(s["blocks"], ensure_ascii=False) for s in summaries(slack))
    assert "4 approvals* · 1 decided, 1 voted, 2 refused" in first
    assert f"`{own}`: You submitted approval" in first
    assert f"`{gone}`: Approval {gone} is no longer pending" in first

    # The same submission again (one view): run once, one summary.
    again = sender.view_submission(BULK_MODAL_CALLBACK_ID, view["private_metadata"], {}, APPROVER)
    assert again.status_code == 200
    assert stays(lambda: len(summaries(slack)) == 1)
    assert len(decision_posts(commerce, plain)) == 1
    assert commerce.approval(plain)["status"] == "1"
    assert decision_posts(commerce, large) == [] and decision_posts(commerce, own) == []
    assert stays(lambda: len(decision_posts(commerce, plain)) == 1)
    actions = [e.action for e in bot.call(audit_entries(bot.runtime.store))]
    assert actions.count("bulk_approve") == 1

    # A second confirmation of the same selection (a new view) is a new submission: its summary says
    # each was decided or voted on already, and still nothing goes to Commerce twice.
    sender.home_action(BULK_APPROVE_ACTION_ID, "approve", APPROVER, state=ticked(selection))
    second_view = confirmation(slack, 2)
    sender.view_submission(
        BULK_MODAL_CALLBACK_ID, second_view["private_metadata"], {}, APPROVER, view_id=second_view["id"]
    )
    wait_for(lambda: len(summaries(slack)) == 2, what="the second summary")
    second = json.dumps(summaries(slack)[1]["blocks"], ensure_ascii=False)
    assert "0 decided" not in second and "4 refused" in second
    assert len(decision_posts(commerce, plain)) == 1


def test_reject_selected_asks_one_reason_for_all(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    first = commerce.add_approval(ApprovalKind.ORDER)
    second = commerce.add_approval(ApprovalKind.BUYER)
    sender.app_home_opened(APPROVER)
    wait_for(lambda: slack.home_view(APPROVER) is not None, what="the Home")

    sender.home_action(BULK_REJECT_ACTION_ID, "reject", APPROVER, state=ticked([first, second]))
    view = confirmation(slack, 1)
    assert "1 without a known total" in json.dumps(view["blocks"])
    short = {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "x"}}}
    refused = sender.view_submission(BULK_MODAL_CALLBACK_ID, view["private_metadata"], short, APPROVER)
    assert refused.json()["response_action"] == "errors"
    reason = {
        REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "Duplicate requests"}}
    }
    sender.view_submission(BULK_MODAL_CALLBACK_ID, view["private_metadata"], reason, APPROVER)

    wait_for(lambda: summaries(slack), what="the summary")
    assert "2 decided" in json.dumps(summaries(slack)[0]["blocks"])
    for approval_id in (first, second):
        (post,) = decision_posts(commerce, approval_id)
        assert "Duplicate requests" in post.json()["comments"]


def every_option_ticked(home: dict[str, Any]) -> dict[str, Any]:
    """The Home's ``state.values`` with every option of every checkbox group ticked, as Slack sends it."""
    state: dict[str, Any] = {}
    for block in home["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["type"] == "checkboxes":
                assert len(element["options"]) <= 10  # Block Kit's limit per group
                chosen = {"type": "checkboxes", "selected_options": element["options"]}
                state[block["block_id"]] = {element["action_id"]: chosen}
    return state


def test_an_approver_selects_25_from_the_home_and_all_25_are_decided(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    ids = [commerce.add_approval(ApprovalKind.ORDER, order_total="10.00") for _ in range(30)]
    sender.app_home_opened(APPROVER)
    home = wait_for(lambda: slack.home_view(APPROVER), what="the Home")  # the emulator checks limits
    state = every_option_ticked(home)
    ticked_ids = [o["value"] for s in state.values() for o in s[HOME_SELECT_ACTION_ID]["selected_options"]]
    assert ticked_ids == ids[::-1][:25]  # the 25 newest, each once

    sender.home_action(BULK_APPROVE_ACTION_ID, "approve", APPROVER, state=state)
    view = confirmation(slack, 1)
    assert "*25 approvals* totalling EUR 250.00" in json.dumps(view["blocks"], ensure_ascii=False)
    sender.view_submission(BULK_MODAL_CALLBACK_ID, view["private_metadata"], {}, APPROVER)

    wait_for(lambda: summaries(slack), what="the summary")
    assert "25 approvals* · 25 decided" in json.dumps(summaries(slack)[0]["blocks"], ensure_ascii=False)
    assert all(len(decision_posts(commerce, i)) == 1 for i in ticked_ids)
    assert all(decision_posts(commerce, i) == [] for i in ids[:5])


def test_a_selection_of_more_than_25_is_refused_in_plain_words_and_nothing_is_sent(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    ids = [commerce.add_approval(ApprovalKind.ORDER) for _ in range(26)]
    sender.app_home_opened(APPROVER)
    wait_for(lambda: slack.home_view(APPROVER), what="the Home")
    state = {
        f"home_select:{n}": {
            HOME_SELECT_ACTION_ID: ticked(ids[n * 10 : n * 10 + 10])["home_select:0"][HOME_SELECT_ACTION_ID]
        }
        for n in range(3)
    }

    sender.home_action(BULK_APPROVE_ACTION_ID, "approve", APPROVER, state=state)

    refused = "You selected 26 approvals; at most 25 can be decided at a time."
    wait_for(lambda: refused in json.dumps(slack.home_view(APPROVER)), what="the refusal on the Home")
    assert not [v for v in slack.modals.values() if v.get("callback_id") == BULK_MODAL_CALLBACK_ID]
    assert all(decision_posts(commerce, i) == [] for i in ids)
