"""Approvals as ``approvals-bot serve`` runs them: one real process, the notifier on, the emulators.

The operator's path end to end: a routes file, identity links made with ``approvals-bot approvers
link``, ``DECIDE_AS=linked-user``, then cards in the routes' channels, a decision from a signed click
(the card rewritten, the decision in its thread), the two-person rule, an approval decided in
Commerce closed on its card, the App Home, and one backlog summary instead of a flood of cards.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, DETAILS_ACTION_ID
from tests.cli_process import EXECUTABLE, environment, free_port
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SECOND_APPROVER, SIGNING_SECRET
from tests.identity_helpers import add_approver
from tests.replicas import Replica
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for

LARGE_CHANNEL = "C_LARGE"
ROUTES = f"""
routes:
  - name: large-orders
    channel: {LARGE_CHANNEL}
    currency: EUR
    match: {{kind: order, min_total: 10000}}
    approvers: [{APPROVER}, {SECOND_APPROVER}]
    required_approvals: 2
"""


def _text(message: StoredMessage) -> str:
    return f"{message.text or ''} {json.dumps(message.blocks or [])}"


def _card(slack: SlackEmulator, channel: str, approval_id: str) -> StoredMessage | None:
    return next((m for m in slack.top_level_messages(channel) if approval_id in _text(m)), None)


def _operator(settings: Settings, cwd: Path, *args: str) -> str:
    """Runs ``approvals-bot ARGS`` as an operator would; returns its output (fails the test on error)."""
    done = subprocess.run(
        [EXECUTABLE, *args], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _click(
    sender: SlackRequestSender, slack: SlackEmulator, card: StoredMessage, approval_id: str, user: str
) -> str:
    response_url = slack.new_response_url()
    answer = sender.block_action(
        APPROVE_ACTION_ID,
        approval_id,
        user_id=user,
        channel_id=card.channel,
        message_ts=card.ts,
        response_url=response_url,
    )
    assert answer.status_code == 200
    return response_url


def _serve(settings: Settings, workdir: Path) -> Replica:
    bot = Replica(settings, workdir)
    bot.wait_until_listening()
    return bot


def test_serve_routes_cards_decides_as_linked_users_counts_two_votes_and_keeps_cards_true(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
) -> None:
    (tmp_path / "routes.yaml").write_text(ROUTES)
    settings = make_settings(
        notifier_enabled=True,
        port=free_port(),
        approvals_poll_seconds=0.5,
        approvals_routes_file=str(tmp_path / "routes.yaml"),
        decide_as="linked-user",
    )
    jane, bob = add_approver(commerce, "jane.approver"), add_approver(commerce, "bob.approver")
    _operator(settings, tmp_path, "approvers", "link", APPROVER, "jane.approver")
    _operator(settings, tmp_path, "approvers", "link", SECOND_APPROVER, "bob.approver")
    small = commerce.add_approval(ApprovalKind.ORDER, order_total="1200.00")
    large = commerce.add_approval(ApprovalKind.ORDER, order_total="48000.00")
    elsewhere = commerce.add_approval(ApprovalKind.ORDER, order_total="300.00")

    bot = _serve(settings, tmp_path / "serve")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    try:
        small_card = wait_for(lambda: _card(slack, APPROVALS_CHANNEL, small), what="the small order's card")
        large_card = wait_for(lambda: _card(slack, LARGE_CHANNEL, large), what="the large order's card")
        assert _card(slack, APPROVALS_CHANNEL, large) is None, "a routed card goes to its route only"

        # A decision from the card, sent to Commerce as the linked user, shown on the card and its thread.
        _click(sender, slack, small_card, small, APPROVER)
        wait_for(lambda: commerce.approval(small)["status"] == "1", what="the small order approved")
        assert commerce.approval(small)["approverId"] == jane.user_id
        wait_for(lambda: "Approved" in _text(slack.message(APPROVALS_CHANNEL, small_card.ts)), what="card")
        wait_for(
            lambda: any(
                f"<@{APPROVER}>" in _text(m) for m in slack.thread_replies(APPROVALS_CHANNEL, small_card.ts)
            ),
            what="the decision in the card's thread",
        )

        # The two-person rule: the first approve is a vote, the second goes to Commerce.
        _click(sender, slack, large_card, large, APPROVER)
        wait_for(
            lambda: "1 of 2" in _text(slack.message(LARGE_CHANNEL, large_card.ts)), what="the first vote"
        )
        assert commerce.approval(large)["status"] == "0"
        _click(sender, slack, large_card, large, SECOND_APPROVER)
        wait_for(lambda: commerce.approval(large)["status"] == "1", what="the large order approved")
        assert commerce.approval(large)["approverId"] == bob.user_id

        # Decided in Commerce: its card is closed by the notifier.
        elsewhere_card = wait_for(lambda: _card(slack, APPROVALS_CHANNEL, elsewhere), what="the third card")
        commerce.decide_elsewhere(elsewhere, ApprovalState.REJECTED)
        wait_for(
            lambda: "Rejected" in _text(slack.message(APPROVALS_CHANNEL, elsewhere_card.ts)),
            what="the card closed after a decision in Commerce",
        )

        # The App Home lists what waits, for the approver who opens it.
        waiting = commerce.add_approval(ApprovalKind.ORDER, order_total="99.00")
        wait_for(lambda: _card(slack, APPROVALS_CHANNEL, waiting), what="the fourth card")
        assert sender.app_home_opened(APPROVER).status_code == 200
        home = wait_for(lambda: slack.home_view(APPROVER), what="the App Home")
        assert waiting in json.dumps(home)

        audit = _operator(settings, tmp_path, "audit", "--format", "json")
        assert small in audit and large in audit
    finally:
        assert bot.stop() == 0


def test_serve_sums_up_a_backlog_in_one_message_instead_of_a_card_each(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        notifier_enabled=True, port=free_port(), approvals_poll_seconds=0.5, approvals_backlog_limit=3
    )
    backlog = [commerce.add_approval(ApprovalKind.ORDER) for _ in range(5)]

    bot = _serve(settings, tmp_path / "serve")
    try:
        summary = wait_for(
            lambda: [
                m
                for m in slack.top_level_messages(APPROVALS_CHANNEL)
                if "5 approvals are waiting" in (m.text or "")
            ],
            what="the backlog summary",
        )
        assert len(slack.top_level_messages(APPROVALS_CHANNEL)) == 1, "one summary, no card each"
        assert all(approval_id in _text(summary[0]) for approval_id in backlog)
        # What comes after the backlog gets its own card.
        later = commerce.add_approval(ApprovalKind.ORDER)
        wait_for(lambda: _card(slack, APPROVALS_CHANNEL, later), what="a card for a new approval")
    finally:
        assert bot.stop() == 0


def _in_database(settings: Settings, query: str, approval_id: str) -> object:
    """The first column of ``query``'s first row (or ``None``), read from the bot's own SQLite file."""
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as db:
        row = db.execute(query, (approval_id,)).fetchone()
    return row[0] if row else None


def _post_recorded(settings: Settings, approval_id: str) -> object:
    return _in_database(settings, "SELECT ts FROM approval_cards WHERE approval_id = ?", approval_id)


def _decision_recorded(settings: Settings, approval_id: str) -> object:
    return _in_database(settings, "SELECT id FROM audit_log WHERE approval_id = ?", approval_id)


def _history_in_details(
    sender: SlackRequestSender, slack: SlackEmulator, approval_id: str, card: StoredMessage, history: str
) -> None:
    sender.block_action(
        DETAILS_ACTION_ID,
        approval_id,
        user_id=APPROVER,
        channel_id=APPROVALS_CHANNEL,
        message_ts=card.ts,
        response_url=slack.new_response_url(),
    )
    wait_for(
        lambda: any(history in json.dumps(v["blocks"]) for v in slack.modals.values()),
        what=f"the Details with the organization's history ({history!r})",
    )


@pytest.mark.parametrize("recorded", ["before the decision", "after the decision"])
def test_serve_counts_a_decision_clicked_before_its_card_was_recorded_in_the_history(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
    recorded: str,
) -> None:
    """Slack shows a card before the bot has its answer to the post, so a click can come before the
    card (and the organization it shows) is recorded. The decision counts in the organization's
    history all the same, whether the post is recorded before the decision is or after."""
    settings = make_settings(notifier_enabled=True, port=free_port(), approvals_poll_seconds=0.5)
    acme = "7000000000000000555"
    ann = commerce.people.add("ann", email="ann@acme.example", organization_id=acme)
    first = commerce.add_approval(ApprovalKind.BUYER, submitter_id=ann.user_id)
    posted = slack.answer_late(lambda r: r.path.endswith("/chat.postMessage") and first.encode() in r.body)
    decided = commerce.answer_late(lambda r: r.method == "POST" and f"/approval_status/{first}" in r.path)
    bot = _serve(settings, tmp_path / "serve")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    try:
        card = wait_for(lambda: _card(slack, APPROVALS_CHANNEL, first), what="the buyer card in Slack")
        assert not _post_recorded(settings, first)  # Slack shows it; the bot has no answer yet
        _click(sender, slack, card, first, APPROVER)
        wait_for(lambda: commerce.approval(first)["status"] == "1", what="Commerce to apply the approve")
        if recorded == "before the decision":
            posted.set()
            wait_for(lambda: _post_recorded(settings, first), what="the post recorded")
            decided.set()
        else:
            decided.set()
            wait_for(lambda: _decision_recorded(settings, first), what="the decision recorded")
            posted.set()
        wait_for(lambda: "Approved" in _text(slack.message(APPROVALS_CHANNEL, card.ts)), what="decided")

        bob = commerce.people.add("bob", email="bob@acme.example", organization_id=acme)
        second = commerce.add_approval(ApprovalKind.BUYER, submitter_id=bob.user_id)
        other = wait_for(lambda: _card(slack, APPROVALS_CHANNEL, second), what="the second buyer card")
        _history_in_details(sender, slack, second, other, "1 approved, 0 rejected")
    finally:
        posted.set()
        decided.set()
        assert bot.stop() == 0


@pytest.mark.parametrize("answer", ["answered", "lost"])
def test_serve_keeps_who_registered_on_a_decided_buyer_card_and_counts_it_in_details(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
    answer: str,
) -> None:
    """Lost: Commerce takes the approve but answers after the bot stopped waiting, so the next poll
    credits it from Commerce's comment; it counts in the organization's history all the same."""
    timeout = {"lost": {"commerce_timeout_seconds": 0.5}}.get(answer, {})
    settings = make_settings(notifier_enabled=True, port=free_port(), approvals_poll_seconds=0.5, **timeout)
    acme = "7000000000000000555"
    ann = commerce.people.add("ann", email="ann@acme.example", organization_id=acme)
    first = commerce.add_approval(ApprovalKind.BUYER, submitter_id=ann.user_id)
    if answer == "lost":

        def slow_answer(request: RecordedRequest) -> Response | None:
            if request.method == "POST" and f"/approval_status/{first}" in request.path:
                time.sleep(1.0)  # decided, answered after the bot's 0.5 s
            return None

        commerce.inject(slow_answer)

    bot = _serve(settings, tmp_path / "serve")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    try:
        card = wait_for(lambda: _card(slack, APPROVALS_CHANNEL, first), what="the buyer card")
        assert "ann@acme.example" in _text(card)
        _click(sender, slack, card, first, APPROVER)
        wait_for(lambda: "Approved" in _text(slack.message(APPROVALS_CHANNEL, card.ts)), what="decided")
        assert "ann@acme.example" in _text(slack.message(APPROVALS_CHANNEL, card.ts))  # kept

        bob = commerce.people.add("bob", email="bob@acme.example", organization_id=acme)
        second = commerce.add_approval(ApprovalKind.BUYER, submitter_id=bob.user_id)
        other = wait_for(lambda: _card(slack, APPROVALS_CHANNEL, second), what="the second buyer card")
        _history_in_details(sender, slack, second, other, "1 approved, 0 rejected")
    finally:
        assert bot.stop() == 0
