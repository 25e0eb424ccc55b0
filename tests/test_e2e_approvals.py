"""End to end: Commerce emulator -> notifier -> Slack card -> signed click -> Commerce POST -> card update."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import text

from bot.commerce.models import ApprovalKind, ApprovalState, Decision
from bot.notifier.failures import NotifierRoundIncomplete
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator, errors_body
from bot.sandbox.slack import SlackEmulator
from bot.services.decisions import DecisionRequest
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    DETAILS_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
    REJECT_MODAL_CALLBACK_ID,
)
from tests.bot_runner import RunningBot
from tests.conftest import (
    APPROVALS_CHANNEL,
    APPROVER,
    GROUP_MEMBER,
    OUTSIDER,
    SECOND_APPROVER,
    SIGNING_SECRET,
)
from tests.slack_requests import SlackRequestSender
from tests.store_helpers import claim_from_another_process, silence_instance
from tests.waiting import stays, wait_for


def posted_cards(slack: SlackEmulator) -> list[dict[str, Any]]:
    """Top-level posts in the approvals channel (thread replies, such as decisions, are not cards)."""
    return [
        c
        for c in slack.calls("chat.postMessage")
        if c.get("channel") == APPROVALS_CHANNEL and not c.get("thread_ts")
    ]


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]


def blocks_of(call: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = call.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def card_updates(slack: SlackEmulator, ts: str) -> list[dict[str, Any]]:
    return [c for c in slack.calls("chat.update") if c.get("ts") == ts]


def decision_posts(commerce: CommerceEmulator, approval_id: str) -> list[RecordedRequest]:
    return [r for r in commerce.requests_to("POST", f"/approval_status/{approval_id}")]


def post_card(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, kind: ApprovalKind = ApprovalKind.ORDER
) -> tuple[str, str]:
    approval_id = commerce.add_approval(kind)
    bot.poll_approvals()
    card = next(c for c in posted_cards(slack) if approval_id in all_text(blocks_of(c)))
    ts = slack.message_ts(card)
    return approval_id, ts


def click(
    sender: SlackRequestSender,
    slack: SlackEmulator,
    action_id: str,
    approval_id: str,
    user: str,
    ts: str,
    response_url: str | None = None,
) -> str:
    """A signed click on the card's button; returns the response_url the bot answers at."""
    response_url = response_url or slack.new_response_url()
    response = sender.block_action(
        action_id,
        approval_id,
        user_id=user,
        channel_id=APPROVALS_CHANNEL,
        message_ts=ts,
        response_url=response_url,
    )
    assert response.status_code == 200
    return response_url


def test_pending_approval_is_posted_once_then_approved_from_the_card(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER, first_name="Jane", last_name="Smith")

    assert bot.poll_approvals() == 1
    assert bot.poll_approvals() == 0
    cards = posted_cards(slack)
    assert len(cards) == 1
    blocks = blocks_of(cards[0])
    assert action_ids(blocks) == [APPROVE_ACTION_ID, REJECT_ACTION_ID, DETAILS_ACTION_ID]
    approve_button = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == APPROVE_ACTION_ID
    )
    assert approve_button["value"] == approval_id
    assert "confirm" in approve_button
    ts = slack.message_ts(cards[0])

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    wait_for(lambda: decision_posts(commerce, approval_id), what="the Commerce POST")
    update = wait_for(lambda: card_updates(slack, ts), what="the card update")[-1]
    posts = decision_posts(commerce, approval_id)
    assert len(posts) == 1
    assert posts[0].q("action") == "updateApprovalStatus"
    body = posts[0].json()
    assert body["aprv_act"] == "1"
    assert APPROVER in body["comments"]
    assert commerce.approval(approval_id)["status"] == "1"
    updated = blocks_of(update)
    assert action_ids(updated) == []
    assert f"<@{APPROVER}>" in all_text(updated)
    assert "Approved" in all_text(updated)

    # The audit row is written right after the card update, so it may trail it by a moment.
    audit = wait_for(lambda: bot.call(bot.runtime.store.audit_entries(approval_id)), what="the audit row")
    assert [(a.slack_user_id, a.action, a.outcome) for a in audit] == [(APPROVER, "approve", "ok")]


def test_reject_asks_for_a_reason_in_a_modal_then_rejects_with_it(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce, ApprovalKind.BUYER)

    click_url = click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts)
    opened = wait_for(lambda: slack.calls("views.open"), what="the reject modal")[0]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == REJECT_MODAL_CALLBACK_ID
    assert decision_posts(commerce, approval_id) == []

    too_short = sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": " x "}}},
        user_id=APPROVER,
    )
    assert too_short.status_code == 200
    assert too_short.json()["response_action"] == "errors"
    assert REASON_BLOCK_ID in too_short.json()["errors"]

    reason = "Credit limit exceeded <!channel>"
    accepted = sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": reason}}},
        user_id=APPROVER,
    )
    assert accepted.status_code == 200

    update = wait_for(lambda: card_updates(slack, ts), what="the card update")[-1]
    posts = decision_posts(commerce, approval_id)
    assert len(posts) == 1
    assert posts[0].json()["aprv_act"] == "2"
    assert reason in posts[0].json()["comments"]
    assert commerce.approval(approval_id)["status"] == "2"
    text = all_text(blocks_of(update))
    assert "Rejected" in text and "Credit limit exceeded" in text
    assert "<!channel>" not in text  # user text is escaped on the card
    assert action_ids(blocks_of(update)) == []
    # The outcome reaches the rejecter through the clicked card's response_url (modals have none).
    outcome = wait_for(lambda: slack.responses(click_url), what="the outcome")[0]
    assert outcome["response_type"] == "ephemeral"
    assert f"Approval {approval_id} rejected" in outcome["text"]


def test_reject_modal_refuses_a_reason_whose_utf8_form_does_not_fit_commerce(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts)
    opened = wait_for(lambda: slack.calls("views.open"), what="the reject modal")[0]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    reason = "€" * 150  # within the modal's 200 characters, 450 bytes in UTF-8

    answer = sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": reason}}},
        user_id=APPROVER,
    )

    assert answer.status_code == 200
    assert answer.json()["response_action"] == "errors"
    error = answer.json()["errors"][REASON_BLOCK_ID]
    assert "characters shorter" in error
    assert stays(lambda: decision_posts(commerce, approval_id) == [])


def test_commerce_refusal_after_the_reject_modal_reaches_the_user_escaped_and_verbatim(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    click_url = click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts)
    opened = wait_for(lambda: slack.calls("views.open"), what="the reject modal")[0]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    refusal = "Denied <!channel>, see <https://evil.example|the rules> or https://evil.example/pay"
    commerce.fail_next(
        1, errors_body(400, "_ERR_DENIED", refusal, "CWX0001E"), when=lambda r: r.method == "POST"
    )

    sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "over budget"}}},
        user_id=APPROVER,
    )

    outcome = wait_for(lambda: slack.responses(click_url), what="the outcome")[0]
    sent = json.dumps(outcome)
    assert "Denied" in sent
    assert "<!channel>" not in sent and "<https://evil" not in sent
    assert outcome["blocks"], "remote text goes out in blocks, never as bare parsed text"
    texts = [b["text"] for b in outcome["blocks"] if b.get("type") == "section"]
    assert texts and all(t["type"] == "plain_text" or t.get("verbatim") is True for t in texts)


def test_a_secret_echoed_in_commerce_refusal_is_masked_in_the_answer(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    echo = f"Session for password {commerce.password} may not approve"
    commerce.fail_next(
        1, errors_body(400, "_ERR_DENIED", echo, "CWX0001E"), when=lambda r: r.method == "POST"
    )

    answer_url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    answer = wait_for(lambda: slack.responses(answer_url), what="the refusal")[0]
    sent = json.dumps(answer)
    assert "Session for password *** may not approve" in sent
    assert commerce.password not in sent


def test_non_approver_is_refused_and_commerce_is_not_called(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    reads_before = len(commerce.requests_to("GET", f"/approval_status/{approval_id}"))

    approve_url = click(sender, slack, APPROVE_ACTION_ID, approval_id, OUTSIDER, ts)
    reject_url = click(sender, slack, REJECT_ACTION_ID, approval_id, OUTSIDER, ts)

    for url in (approve_url, reject_url):
        answer = wait_for(partial(slack.responses, url), what="the refusal")[0]
        assert answer["response_type"] == "ephemeral"
        assert "not allowed" in answer["text"]
    assert decision_posts(commerce, approval_id) == []
    assert len(commerce.requests_to("GET", f"/approval_status/{approval_id}")) == reads_before
    assert slack.calls("views.open") == []
    assert card_updates(slack, ts) == []
    audit = bot.call(bot.runtime.store.audit_entries(approval_id))
    assert {(a.slack_user_id, a.outcome) for a in audit} == {(OUTSIDER, "refused")}


def test_member_of_an_approver_user_group_may_approve(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    click(sender, slack, APPROVE_ACTION_ID, approval_id, GROUP_MEMBER, ts)
    wait_for(lambda: decision_posts(commerce, approval_id), what="the Commerce POST")
    assert slack.calls("usergroups.users.list")


def test_concurrent_clicks_cause_exactly_one_commerce_post(
    database_url: str,
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    url = database_url  # the test runs once on SQLite and once on PostgreSQL
    bot = start_bot(database_url=url)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)

    def slow_reads(req: RecordedRequest) -> Response | None:
        if req.method == "GET" and req.path.endswith(f"/approval_status/{approval_id}"):
            time.sleep(0.3)  # widen the window in which both clicks are in flight
        return None

    commerce.inject(slow_reads)
    clickers = [APPROVER, SECOND_APPROVER, APPROVER, SECOND_APPROVER]
    urls = [slack.new_response_url() for _ in clickers]
    barrier = threading.Barrier(len(clickers))

    def click_now(user: str, url: str) -> None:
        barrier.wait()
        click(sender, slack, APPROVE_ACTION_ID, approval_id, user, ts, response_url=url)

    threads = [
        threading.Thread(target=click_now, args=(u, url)) for u, url in zip(clickers, urls, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wait_for(lambda: card_updates(slack, ts), what="the card update")
    wait_for(
        lambda: sum(1 for u in urls if slack.responses(u)) == len(clickers) - 1,
        what="answers to the other clicks",
    )
    assert len(decision_posts(commerce, approval_id)) == 1
    assert stays(lambda: len(decision_posts(commerce, approval_id)) == 1)
    # The winner's audit row is written while its card is rewritten, so it may trail the update.
    audit = wait_for(
        lambda: [a for a in bot.call(bot.runtime.store.audit_entries(approval_id)) if a.outcome == "ok"],
        what="the decision's audit row",
    )
    assert len(audit) == 1


def test_click_on_an_approval_decided_in_commerce_updates_the_card_and_sends_nothing(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    commerce.decide_elsewhere(approval_id, ApprovalState.REJECTED, comment="done by phone")

    url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    answer = wait_for(lambda: slack.responses(url), what="the ephemeral answer")[0]
    assert answer["response_type"] == "ephemeral"
    assert "no longer pending" in answer["text"]
    update = wait_for(lambda: card_updates(slack, ts), what="the card update")[-1]
    assert action_ids(blocks_of(update)) == []
    assert "Commerce" in all_text(blocks_of(update))
    assert decision_posts(commerce, approval_id) == []


def test_notifier_closes_cards_decided_in_commerce(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    decided_id, decided_ts = post_card(bot, slack, commerce)
    _, open_ts = post_card(bot, slack, commerce)
    commerce.decide_elsewhere(decided_id, ApprovalState.APPROVED, comment="approved at the desk")

    bot.poll_approvals()

    updates = card_updates(slack, decided_ts)
    assert len(updates) == 1
    assert action_ids(blocks_of(updates[0])) == []
    assert "approved at the desk" in all_text(blocks_of(updates[0]))
    assert card_updates(slack, open_ts) == []
    bot.poll_approvals()
    assert len(card_updates(slack, decided_ts)) == 1  # closed once, not on every poll


def test_restart_posts_nothing_twice_and_misses_nothing(
    database_url: str,
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    url = database_url  # the test runs once on SQLite and once on PostgreSQL
    first_id = commerce.add_approval(ApprovalKind.ORDER)
    first = start_bot(database_url=url)
    assert first.poll_approvals() == 1
    first.stop()

    second_id = commerce.add_approval(ApprovalKind.BUYER)  # arrives while the bot is down
    second = start_bot(database_url=url)
    assert second.poll_approvals() == 1

    texts = [all_text(blocks_of(c)) for c in posted_cards(slack)]
    assert len(texts) == 2
    assert sum(first_id in t for t in texts) == 1
    assert sum(second_id in t for t in texts) == 1


def test_many_pending_approvals_are_paged_through_and_each_posted_once(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(approvals_backlog_limit=1000)  # a card each, not one summary
    ids = [commerce.add_approval(ApprovalKind.ORDER if i % 3 else ApprovalKind.BUYER) for i in range(120)]
    assert bot.poll_approvals() == 120
    texts = [all_text(blocks_of(c)) for c in posted_cards(slack)]
    assert len(texts) == 120
    for approval_id in ids:
        assert sum(f'"value": "{approval_id}"' in t for t in texts) == 1
    assert bot.poll_approvals() == 0


def test_slack_rate_limit_is_honoured_and_the_card_posted_once(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    commerce.add_approval(ApprovalKind.ORDER)
    slack.rate_limit_next("chat.postMessage", 1, retry_after=1)
    assert bot.poll_approvals() == 1
    assert len(posted_cards(slack)) == 1
    assert len(slack.requests_to("POST", "chat.postMessage")) == 2  # the 429, then the retry


def test_a_failed_post_does_not_hold_back_the_others_and_is_retried_next_poll(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    first, second, third = (commerce.add_approval(ApprovalKind.ORDER) for _ in range(3))
    slack.fail_next(
        1,
        Response(body={"ok": False, "error": "internal_error"}),
        when=lambda r: r.path.endswith("chat.postMessage"),
    )
    with pytest.raises(NotifierRoundIncomplete):  # surfaces to the runner, which logs and counts it
        bot.poll_approvals()
    texts = [all_text(blocks_of(c)) for c in posted_cards(slack)]
    assert len(texts) == 2  # the two others went out in the same round
    assert bot.poll_approvals() == 1
    texts = [all_text(blocks_of(c)) for c in posted_cards(slack)]
    for approval_id in (first, second, third):
        assert sum(f'"value": "{approval_id}"' in t for t in texts) == 1


def test_an_approval_decided_while_its_card_is_being_posted_gets_a_closed_card(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)

    def decide_meanwhile(request: RecordedRequest) -> Response | None:
        if request.path.endswith("chat.postMessage") and not commerce.decisions:
            # `/approvals approve` lands after the claim and before Slack answers the post.
            request_ = DecisionRequest(approval_id, Decision.APPROVE, APPROVER, "jane", "quick one")
            assert bot.call(bot.runtime.decisions.decide(request_)).ok
        return None

    slack.inject(decide_meanwhile)
    assert bot.poll_approvals() == 1

    (card,) = posted_cards(slack)
    ts = slack.message_ts(card)
    final = blocks_of(card_updates(slack, ts)[-1])
    assert action_ids(final) == []
    assert "Approved" in all_text(final)
    assert len(decision_posts(commerce, approval_id)) == 1
    assert bot.poll_approvals() == 0
    assert len(posted_cards(slack)) == 1


def test_approve_from_an_ephemeral_show_card_replaces_it_and_updates_the_channel_card(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, channel_ts = post_card(bot, slack, commerce)
    response_url = slack.new_response_url()
    response = sender.block_action(
        APPROVE_ACTION_ID,
        approval_id,
        user_id=APPROVER,
        channel_id=APPROVALS_CHANNEL,
        message_ts="1700000999.000100",
        response_url=response_url,
        is_ephemeral=True,
    )
    assert response.status_code == 200

    replaced = wait_for(lambda: slack.responses(response_url), what="the ephemeral card replacement")[0]
    assert replaced["replace_original"] is True
    assert "approved" in replaced["text"]
    update = wait_for(lambda: card_updates(slack, channel_ts), what="the channel card update")[-1]
    assert action_ids(blocks_of(update)) == []
    assert [c.get("ts") for c in slack.calls("chat.update")] == [channel_ts]  # never the ephemeral one
    assert len(decision_posts(commerce, approval_id)) == 1


def test_expired_commerce_session_is_renewed_once_and_the_decision_goes_through(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    logins_before = commerce.logins
    commerce.expire_tokens()

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    wait_for(lambda: card_updates(slack, ts), what="the card update")
    assert commerce.logins == logins_before + 1
    assert len(decision_posts(commerce, approval_id)) == 1
    assert commerce.approval(approval_id)["status"] == "1"


def test_commerce_down_during_a_click_tells_the_clicker_and_a_retry_works(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    commerce.fail_next(10, Response(status=503, body="down", content_type="text/plain"))

    first = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    answer = wait_for(lambda: slack.responses(first), what="the error answer")[0]
    assert answer["response_type"] == "ephemeral"
    assert "Commerce" in answer["text"]
    assert decision_posts(commerce, approval_id) == []
    assert card_updates(slack, ts) == []

    commerce.clear_faults()
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    wait_for(lambda: card_updates(slack, ts), what="the card update after the retry")
    assert len(decision_posts(commerce, approval_id)) == 1


def test_commerce_down_is_said_once_not_twice(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    commerce.fail_next(10, Response(status=503, body="down", content_type="text/plain"))

    answer_url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    text = wait_for(lambda: slack.responses(answer_url), what="the error answer")[0]["text"]
    assert "Commerce answered 503" in text and "Nothing was sent" in text
    assert text.count("Commerce") == 1, text


def test_a_click_while_the_database_fails_says_the_database_is_at_fault(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)

    async def break_claims() -> None:
        async with bot.runtime.store.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE decision_claims RENAME TO decision_claims_gone"))

    bot.call(break_claims())
    answer_url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    answer = wait_for(lambda: slack.responses(answer_url), what="the error answer")[0]["text"]
    assert "database" in answer and "(ref " in answer, answer
    assert decision_posts(commerce, approval_id) == []


def test_a_claim_abandoned_by_a_crashed_bot_does_not_block_the_approval_forever(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    store = bot.runtime.store
    # Another replica claims the decision, then "crashes": it stops beating.
    crashed = bot.call(claim_from_another_process(bot.settings.database_url, approval_id, SECOND_APPROVER))

    blocked = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    assert "already deciding" in wait_for(lambda: slack.responses(blocked), what="the answer")[0]["text"]
    assert decision_posts(commerce, approval_id) == []

    bot.call(silence_instance(store, crashed, timedelta(minutes=1)))
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    wait_for(lambda: card_updates(slack, ts), what="the card update")
    assert len(decision_posts(commerce, approval_id)) == 1


def test_a_claim_left_by_an_earlier_run_of_the_same_replica_is_dead_at_once(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    bot.call(claim_from_another_process(bot.settings.database_url, approval_id, SECOND_APPROVER))
    # The same replica starts again (a restarted container): its earlier run is dead from now on.
    bot.call(claim_from_another_process(bot.settings.database_url, "0", SECOND_APPROVER))

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    wait_for(lambda: card_updates(slack, ts), what="the card update")
    assert len(decision_posts(commerce, approval_id)) == 1
