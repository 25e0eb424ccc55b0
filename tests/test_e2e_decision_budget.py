"""A decision waits on Commerce within one budget: a hanging Commerce answers the clicker with a
"still working…" note after a few seconds, then with the real wait, never after three timeouts."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator

import pytest

from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.server import DEFAULT_DRAIN_SECONDS, drain_seconds
from bot.services.budget import DecisionBudget
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
    REJECT_MODAL_CALLBACK_ID,
)
from bot.storage.records import DecisionState
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import card_updates, click, decision_posts, post_card
from tests.waiting import wait_for

COMMERCE_TIMEOUT_SECONDS = 4.0  # longer than the few seconds before the note
BUDGET = DecisionBudget.from_timeout(COMMERCE_TIMEOUT_SECONDS)


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """Commerce sits on the held requests until the test lets go (always, at the end)."""
    event = threading.Event()
    yield event
    event.set()


def hang(commerce: CommerceEmulator, gate: threading.Event, held: Callable[[RecordedRequest], bool]) -> None:
    def rule(request: RecordedRequest) -> Response | None:
        if held(request):
            gate.wait(timeout=60)
        return None

    commerce.inject(rule)


def stated_wait(text: str) -> float:
    match = re.search(r"waited ([\d.]+) s in all", text)
    assert match is not None, text
    return float(match.group(1))


def test_a_hanging_approval_read_answers_with_a_note_then_the_real_wait_within_the_budget(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    gate: threading.Event,
) -> None:
    bot = start_bot(commerce_timeout_seconds=COMMERCE_TIMEOUT_SECONDS)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)
    path = f"/approval_status/{approval_id}"
    hang(commerce, gate, lambda r: r.method == "GET" and r.path.endswith(path))

    url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    note, answer = wait_for(lambda: slack.responses(url)[1:] and slack.responses(url), what="two answers")

    assert not gate.is_set()  # answered while Commerce still sits on the read: the budget ended it
    assert note["response_type"] == "ephemeral" and "Still working on approval" in note["text"]
    assert answer["response_type"] == "ephemeral"
    assert "Commerce did not answer" in answer["text"] and "Nothing was sent" in answer["text"]
    assert stated_wait(answer["text"]) >= BUDGET.read_seconds  # the real wait, not one timeout's
    assert len(commerce.requests_to("GET", path)) == 1  # no try started after the read's budget
    assert decision_posts(commerce, approval_id) == []
    assert bot.call(bot.runtime.store.get_decision(approval_id)) is None  # released: clicking again works
    assert card_updates(slack, ts) == []


def test_a_hanging_decision_post_answers_with_a_note_then_unconfirmed_with_the_real_wait(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    gate: threading.Event,
) -> None:
    bot = start_bot(commerce_timeout_seconds=COMMERCE_TIMEOUT_SECONDS)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)
    path = f"/approval_status/{approval_id}"
    hang(commerce, gate, lambda r: r.method == "POST" and r.path.endswith(path))

    url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    note, answer = wait_for(lambda: slack.responses(url)[1:] and slack.responses(url), what="two answers")

    assert not gate.is_set()
    assert "Still working on approval" in note["text"]
    assert f"did not confirm the approve of approval {approval_id}" in answer["text"]
    assert stated_wait(answer["text"]) >= BUDGET.still_working_after_seconds
    assert len(decision_posts(commerce, approval_id)) == 1  # sent once, never again
    claim = bot.call(bot.runtime.store.get_decision(approval_id))
    assert claim is not None and claim.state is DecisionState.UNKNOWN


def test_a_reject_from_the_modal_with_commerce_hanging_gets_the_note_then_the_real_wait(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    gate: threading.Event,
) -> None:
    bot = start_bot(commerce_timeout_seconds=COMMERCE_TIMEOUT_SECONDS)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)
    click_url = click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts)
    opened = wait_for(lambda: slack.calls("views.open"), what="the reject modal")[0]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    path = f"/approval_status/{approval_id}"
    hang(commerce, gate, lambda r: r.method == "GET" and r.path.endswith(path))

    submitted = sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "Over budget"}}},
        user_id=APPROVER,
    )
    assert submitted.status_code == 200
    note, answer = wait_for(
        lambda: slack.responses(click_url)[1:] and slack.responses(click_url), what="two answers"
    )

    assert not gate.is_set()
    assert "Still working on approval" in note["text"]
    assert "Commerce did not answer" in answer["text"]
    assert stated_wait(answer["text"]) >= BUDGET.read_seconds
    assert decision_posts(commerce, approval_id) == []


def test_a_slash_command_decision_with_commerce_hanging_gets_the_note_then_the_real_wait(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    gate: threading.Event,
) -> None:
    bot = start_bot(commerce_timeout_seconds=COMMERCE_TIMEOUT_SECONDS)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, _ = post_card(bot, slack, commerce)
    path = f"/approval_status/{approval_id}"
    hang(commerce, gate, lambda r: r.method == "GET" and r.path.endswith(path))
    url = slack.new_response_url()

    acked = sender.slash_command(
        "/approvals",
        f"approve {approval_id}",
        user_id=APPROVER,
        channel_id=APPROVALS_CHANNEL,
        response_url=url,
    )
    assert acked.status_code == 200
    note, answer = wait_for(lambda: slack.responses(url)[1:] and slack.responses(url), what="two answers")

    assert not gate.is_set()
    assert "Still working on approval" in note["text"]
    assert "Commerce did not answer" in answer["text"]
    assert stated_wait(answer["text"]) >= BUDGET.read_seconds


def test_a_decision_that_answers_quickly_sends_no_note(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)

    url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    wait_for(lambda: card_updates(slack, ts), what="the card update")
    assert commerce.approval(approval_id)["status"] == "1"
    assert slack.responses(url) == []  # the card is the answer; nothing said in between


def test_the_drain_covers_the_whole_decision_budget() -> None:
    budget = DecisionBudget.from_timeout(10.0)
    assert budget.total_seconds == 20.0 and budget.read_seconds == 10.0
    assert DEFAULT_DRAIN_SECONDS == drain_seconds(10.0) == 55.0  # route 10 + decision 20 + Slack 2 x 10 + 5
    assert drain_seconds(30.0) > DecisionBudget.from_timeout(30.0).total_seconds
