"""The two-person rule across replicas: two approvers click at once on two replicas sharing PostgreSQL.

Real ``approvals-bot serve`` processes, the emulators and a real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from tests.cli_process import free_port
from tests.conftest import SIGNING_SECRET
from tests.replicas import Replica
from tests.routes_helpers import (
    FINANCE_1,
    FINANCE_2,
    LARGE_CHANNEL,
    card_in,
    link_finance_in,
    routes_file,
)
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import decision_posts
from tests.waiting import stays, wait_for

ROUNDS = 3


@pytest.fixture
def two_replicas(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    fresh_postgres_url: str,
    commerce: CommerceEmulator,
) -> Iterator[list[Replica]]:
    path = routes_file(tmp_path)
    replicas = [
        Replica(
            make_settings(
                port=free_port(),
                replica_id=f"replica-{n}",
                database_url=fresh_postgres_url,
                notifier_enabled=True,
                approvals_poll_seconds=0.5,
                approvals_routes_file=path,
            ),
            tmp_path,
        )
        for n in (1, 2)
    ]
    try:
        for replica in replicas:
            replica.wait_until_listening()
        asyncio.run(link_finance_in(fresh_postgres_url, commerce))
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


def click_together(
    slack: SlackEmulator, clicks: list[tuple[SlackRequestSender, str, str, str]]
) -> list[httpx.Response]:
    """Sends every (sender, approval id, user, ts) Approve click at the same moment, one thread each."""
    start = threading.Barrier(len(clicks))
    responses: list[httpx.Response] = []

    def click(sender: SlackRequestSender, approval_id: str, user: str, ts: str) -> None:
        url = slack.new_response_url()
        start.wait(timeout=10)
        responses.append(
            sender.block_action(
                APPROVE_ACTION_ID,
                approval_id,
                user_id=user,
                channel_id=LARGE_CHANNEL,
                message_ts=ts,
                response_url=url,
            )
        )

    threads = [threading.Thread(target=click, args=c) for c in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


def approved(commerce: CommerceEmulator, approval_id: str) -> bool:
    return bool(commerce.approval(approval_id)["status"] == "1")


def test_two_approvers_clicking_at_once_on_two_replicas_make_exactly_one_commerce_post(
    two_replicas: list[Replica], commerce: CommerceEmulator, slack: SlackEmulator
) -> None:
    senders = [SlackRequestSender(replica.url, SIGNING_SECRET) for replica in two_replicas]
    # Several approvals, so the race is run more than once.
    approvals = [commerce.add_approval(ApprovalKind.ORDER, order_total="30000") for _ in range(ROUNDS)]

    for approval_id in approvals:
        card = wait_for(partial(card_in, slack, LARGE_CHANNEL, approval_id), timeout=30, what="the card")
        assert card is not None
        ts = slack.message_ts(card)
        responses = click_together(
            slack, [(senders[0], approval_id, FINANCE_1, ts), (senders[1], approval_id, FINANCE_2, ts)]
        )
        assert [r.status_code for r in responses] == [200, 200]

    for approval_id in approvals:
        wait_for(partial(approved, commerce, approval_id), timeout=30, what="the approve")
    assert stays(lambda: all(len(decision_posts(commerce, a)) == 1 for a in approvals), for_seconds=1.0)
    for replica in two_replicas:
        assert "Traceback" not in replica.log(), replica.log()
