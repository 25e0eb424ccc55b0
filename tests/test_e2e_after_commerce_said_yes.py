"""Once Commerce has accepted a decision nothing may be lost or misreported: a store that fails, a
card Slack will not rewrite, an answer that never came back."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import psycopg
import pytest

from bot.commerce.models import ApprovalState
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from bot.storage.records import CardState, DecisionState
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER, SIGNING_SECRET
from tests.pg import database_url, fresh_postgres_url, postgres_url, sqlite_url  # noqa: F401
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import card_updates, click, decision_posts, post_card
from tests.waiting import wait_for


def is_decision_post(request: RecordedRequest) -> bool:
    return request.method == "POST" and "/approval_status/" in request.path


def test_a_store_that_fails_after_commerce_accepted_still_tells_and_shows_it(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    fresh_postgres_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = start_bot(database_url=fresh_postgres_url)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)
    database = fresh_postgres_url.rsplit("/", 1)[1]
    plain_url = fresh_postgres_url.replace("postgresql+psycopg", "postgresql")

    def database_goes_read_only(request: RecordedRequest) -> Response | None:
        # While Commerce takes the decision, the bot's database turns read-only (a failover, a full disk).
        if is_decision_post(request):
            with psycopg.connect(plain_url, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (database,),
                )
        return None

    commerce.inject(database_goes_read_only)
    with caplog.at_level(logging.ERROR, logger="bot"):
        url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
        update = wait_for(lambda: card_updates(slack, ts), what="the card update")[-1]
        # The record is tried (a few times) while the card is rewritten: its end is the log line.
        (error,) = wait_for(
            lambda: [r for r in caplog.records if "could not be recorded" in r.getMessage()],
            what="the decision logged in full",
        )

    assert commerce.approval(approval_id)["status"] == "1"
    assert f"<@{APPROVER}>" in str(update["blocks"])  # the card shows the decision all the same
    assert slack.responses(url) == []  # no "something went wrong": the card is the answer
    assert approval_id in error.getMessage() and APPROVER in error.getMessage()


def test_an_approve_whose_card_slack_refuses_to_rewrite_is_still_told_to_the_clicker(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    approval_id, ts = post_card(bot, slack, commerce)
    slack.fail_next(
        1,
        Response(body={"ok": False, "error": "message_not_found"}),
        when=lambda r: r.path.endswith("chat.update"),
    )

    url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    answer = wait_for(lambda: slack.responses(url), what="the answer")[0]
    assert answer["response_type"] == "ephemeral"
    assert f"Approval {approval_id} approved" in answer["text"]
    assert "card could not be updated" in answer["text"]
    assert commerce.approval(approval_id)["status"] == "1"


def test_a_decision_whose_answer_was_lost_is_credited_to_its_slack_user(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(commerce_timeout_seconds=0.5)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = post_card(bot, slack, commerce)

    def slow_answer(request: RecordedRequest) -> Response | None:
        if is_decision_post(request):
            time.sleep(1.0)  # Commerce takes the decision, but answers after the bot stopped waiting
        return None

    commerce.inject(slow_answer)
    url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    answer = wait_for(lambda: slack.responses(url), what="the answer")[0]
    assert "did not confirm" in answer["text"]
    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="Commerce taking the decision")
    claim = bot.call(bot.runtime.store.get_decision(approval_id))
    assert claim is not None and claim.state is DecisionState.UNKNOWN  # kept, not released
    assert card_updates(slack, ts) == []

    bot.poll_approvals()  # the next read settles it

    update = card_updates(slack, ts)[-1]
    assert f"<@{APPROVER}>" in str(update["blocks"])
    assert "Approved" in str(update["blocks"])
    claim = bot.call(bot.runtime.store.get_decision(approval_id))
    assert claim is not None and (claim.state, claim.slack_user_id) == (DecisionState.DONE, APPROVER)
    card = bot.call(bot.runtime.store.get_card(approval_id))
    assert card is not None and card.state is CardState.APPROVED
    outcomes = [(a.slack_user_id, a.outcome) for a in bot.call(bot.runtime.store.audit_entries(approval_id))]
    assert outcomes == [(APPROVER, "ok"), (APPROVER, "unknown")]  # newest first
    assert len(decision_posts(commerce, approval_id)) == 1
    assert commerce.approval(approval_id)["status"] == str(int(ApprovalState.APPROVED))


def test_a_nul_in_a_comment_is_dropped_before_it_is_stored(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator, database_url: str
) -> None:
    bot = start_bot(database_url=database_url)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, _ = post_card(bot, slack, commerce)

    answer = run_command(
        sender,
        slack,
        "/approvals",
        f"approve {approval_id} fine\x00by me",
        user=APPROVER,
        channel="C_APPROVALS",
    )

    assert f"Approval {approval_id} approved" in answer["text"]
    (entry,) = bot.call(bot.runtime.store.audit_entries(approval_id))
    assert (entry.outcome, entry.comment) == ("ok", "fineby me")
