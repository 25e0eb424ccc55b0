"""A decision that Commerce has applied but not yet answered, while the notifier closes cards.

The close round sees the approval decided in Commerce with the bot's own comment while the click
that sent it still waits for Commerce's answer. The decision is the click's: it is recorded and
threaded once, never credited a second time as "an answer that was lost".
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from bot.sandbox.base import RecordedRequest
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from bot.storage.instances import DEAD_AFTER
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.identity_helpers import audit_of
from tests.slack_requests import SlackRequestSender
from tests.store_helpers import silence_instance
from tests.test_e2e_approvals import click, decision_posts, post_card
from tests.waiting import stays, wait_for


def test_a_decision_commerce_applied_during_the_close_round_is_recorded_and_threaded_once(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)

    def is_the_decision(request: RecordedRequest) -> bool:
        return request.method == "POST" and request.path.endswith(f"/approval_status/{approval_id}")

    answer = commerce.answer_late(is_the_decision)
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="Commerce to apply the decision")

    bot.poll_approvals()  # the close round: the approval is no longer pending, the click still waits
    answer.set()

    (recorded,) = audit_of(bot, approval_id, "ok")
    assert recorded.slack_user_id == APPROVER
    assert recorded.detail != "confirmed from Commerce after the answer was lost"
    bot.poll_approvals()

    def decision_replies() -> list[str]:
        return [
            m.text or "" for m in slack.thread_replies(APPROVALS_CHANNEL, ts) if APPROVER in (m.text or "")
        ]

    wait_for(decision_replies, what="the decision in the card's thread")
    assert stays(
        lambda: (
            len(decision_replies()) == 1
            and len([e for e in bot.call(bot.runtime.store.audit_entries(approval_id)) if e.outcome == "ok"])
            == 1
        ),
        for_seconds=1.0,
    )
    assert len(decision_posts(commerce, approval_id)) == 1


def _two_replicas(start_bot: Callable[..., RunningBot]) -> tuple[RunningBot, RunningBot]:
    """Two bots on one database: ``polling`` runs the close round, ``clicked`` takes the click."""
    return start_bot(), start_bot()


def _slow_decision_on(
    clicked: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, approval_id: str, ts: str
) -> threading.Event:
    """Clicks Approve on ``clicked``; Commerce applies it and answers once the returned event is set.
    The clicking replica then looks dead to the others (its heartbeat stopped, as on a stalled host)."""
    answer = commerce.answer_late(
        lambda r: r.method == "POST" and r.path.endswith(f"/approval_status/{approval_id}")
    )
    click(
        SlackRequestSender(clicked.url, SIGNING_SECRET), slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts
    )
    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="Commerce to apply the decision")
    clicked.call(
        silence_instance(clicked.runtime.store, clicked.runtime.store.instance_id, by=2 * DEAD_AFTER)
    )
    return answer


def _credited_once(bot: RunningBot, slack: SlackEmulator, approval_id: str, ts: str) -> None:
    def oks() -> int:
        return len([e for e in bot.call(bot.runtime.store.audit_entries(approval_id)) if e.outcome == "ok"])

    def decision_replies() -> int:
        return len([m for m in slack.thread_replies(APPROVALS_CHANNEL, ts) if APPROVER in (m.text or "")])

    wait_for(lambda: oks() and decision_replies(), what="the decision recorded and threaded")
    assert stays(lambda: oks() == 1 and decision_replies() == 1, for_seconds=1.0)


def test_a_decision_credited_by_the_close_round_is_not_recorded_again_when_its_answer_comes(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    polling, clicked = _two_replicas(start_bot)
    approval_id, ts = post_card(polling, slack, commerce)
    answer = _slow_decision_on(clicked, slack, commerce, approval_id, ts)

    polling.poll_approvals()  # credits the approval from Commerce's comment
    answer.set()  # then the click's own answer arrives

    _credited_once(polling, slack, approval_id, ts)
    assert len(decision_posts(commerce, approval_id)) == 1


def test_a_decision_recorded_while_the_close_round_rereads_it_is_not_credited_again(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    polling, clicked = _two_replicas(start_bot)
    approval_id, ts = post_card(polling, slack, commerce)
    answer = _slow_decision_on(clicked, slack, commerce, approval_id, ts)
    reread = commerce.answer_late(
        lambda r: r.method == "GET" and r.path.endswith(f"/approval_status/{approval_id}")
    )
    reads_before = len(commerce.requests_to("GET", f"/approval_status/{approval_id}"))

    close_round = threading.Thread(target=polling.poll_approvals)
    close_round.start()
    wait_for(
        lambda: len(commerce.requests_to("GET", f"/approval_status/{approval_id}")) > reads_before,
        what="the close round to reread the approval",
    )
    answer.set()  # the click records its decision while the close round waits for its reread
    audit_of(clicked, approval_id, "ok")
    reread.set()
    close_round.join(timeout=30)

    _credited_once(polling, slack, approval_id, ts)
