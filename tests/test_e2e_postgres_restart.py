"""The bot after a PostgreSQL restart: pooled connections died with the old server, no call fails."""

from __future__ import annotations

from collections.abc import Callable

from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER, SIGNING_SECRET
from tests.pg import TEST_DATABASE, private_server
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import click, post_card
from tests.waiting import wait_for


def test_the_first_click_after_a_postgresql_restart_is_decided_not_refused(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    with private_server() as postgres:
        bot = start_bot(database_url=postgres.url(TEST_DATABASE))
        approval_id, ts = post_card(bot, slack, commerce)
        assert bot.call(bot.runtime.store.ping())  # the pool holds connections to this server

        postgres.halt()
        postgres.start(port=postgres.port)

        sender = SlackRequestSender(bot.url, SIGNING_SECRET)
        response_url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
        wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the approval approved")
        assert slack.responses(response_url) == []  # a decision that went through needs no answer
        bot.stop()
