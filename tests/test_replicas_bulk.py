"""Approve selected across replicas: the same submission of a selection reaches two replicas sharing
PostgreSQL at once (a load balancer's retry, say). Real ``approvals-bot serve`` processes with the
notifier on, the emulators and a real PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import BULK_APPROVE_ACTION_ID, BULK_MODAL_CALLBACK_ID
from tests.cli_process import free_port
from tests.conftest import APPROVER, SIGNING_SECRET
from tests.replicas import Replica
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import decision_posts
from tests.test_e2e_bulk import confirmation, summaries, ticked
from tests.waiting import stays, wait_for


@pytest.fixture
def two_replicas(
    make_settings: Callable[..., Settings], tmp_path: Path, fresh_postgres_url: str
) -> Iterator[list[Replica]]:
    replicas = [
        Replica(
            make_settings(
                port=free_port(),
                replica_id=f"replica-{n}",
                database_url=fresh_postgres_url,
                notifier_enabled=True,
            ),
            tmp_path,
        )
        for n in (1, 2)
    ]
    try:
        for replica in replicas:
            replica.wait_until_listening()
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


def submit_on_both(senders: list[SlackRequestSender], view: dict[str, Any]) -> list[httpx.Response]:
    """The same submission (one view, one selection) sent to each replica at the same moment."""
    start = threading.Barrier(len(senders))
    responses: list[httpx.Response] = []

    def submit(sender: SlackRequestSender) -> None:
        start.wait(timeout=10)
        responses.append(
            sender.view_submission(
                BULK_MODAL_CALLBACK_ID, view["private_metadata"], {}, APPROVER, view_id=view["id"]
            )
        )

    threads = [threading.Thread(target=submit, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


def test_one_selection_submitted_on_two_replicas_sends_nothing_twice_and_gives_one_summary(
    two_replicas: list[Replica], commerce: CommerceEmulator, slack: SlackEmulator
) -> None:
    senders = [SlackRequestSender(replica.url, SIGNING_SECRET) for replica in two_replicas]
    selection = [commerce.add_approval(ApprovalKind.ORDER, order_total="10.00") for _ in range(6)]
    senders[0].app_home_opened(APPROVER)
    wait_for(lambda: slack.home_view(APPROVER), timeout=30, what="the Home")
    senders[0].home_action(BULK_APPROVE_ACTION_ID, "approve", APPROVER, state=ticked(selection))
    view = confirmation(slack, 1)

    responses = submit_on_both(senders, view)

    assert [r.status_code for r in responses] == [200, 200]
    wait_for(lambda: summaries(slack), timeout=30, what="the summary")
    assert stays(lambda: len(summaries(slack)) == 1)
    (summary,) = summaries(slack)
    assert "6 approvals* · 6 decided" in json.dumps(summary["blocks"], ensure_ascii=False)
    assert [len(decision_posts(commerce, i)) for i in selection] == [1] * 6
