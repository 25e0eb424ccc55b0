"""Several replicas on one PostgreSQL: every replica serves Slack, exactly one runs the pollers.

Real ``approvals-bot serve`` processes against the emulators and a real PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from tests.cli_process import free_port
from tests.pg import private_server
from tests.replicas import Replica, the_leader, wait_for_leader
from tests.waiting import stays, wait_for

POLL_SECONDS = 1.0
StartReplicas = Callable[..., list[Replica]]


@pytest.fixture
def start_replicas(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[StartReplicas]:
    started: list[Replica] = []

    def start(count: int, database_url: str) -> list[Replica]:
        replicas = [
            Replica(
                make_settings(
                    port=free_port(),
                    replica_id=f"replica-{len(started) + n + 1}",
                    database_url=database_url,
                    notifier_enabled=True,
                    approvals_poll_seconds=POLL_SECONDS,
                    process_status_poll_seconds=POLL_SECONDS,
                ),
                tmp_path,
            )
            for n in range(count)
        ]
        started.extend(replicas)
        for replica in replicas:
            replica.wait_until_listening()
        return replicas

    yield start
    for replica in started:
        replica.stop()


def order_listings(commerce: CommerceEmulator) -> list[float]:
    """When each listing of pending order approvals arrived: one per approvals round."""
    return [r.at for r in commerce.requests_to("GET", "/approval_status") if r.q("q") == "orderApprovals"]


def cards_posted(slack: SlackEmulator, approval_id: str) -> int:
    return len([c for c in slack.calls("chat.postMessage") if approval_id in json.dumps(c.get("blocks"))])


def test_three_replicas_serve_slack_and_only_one_polls(
    start_replicas: StartReplicas,
    fresh_postgres_url: str,
    commerce: CommerceEmulator,
    slack: SlackEmulator,
) -> None:
    replicas = start_replicas(3, fresh_postgres_url)
    leader = wait_for_leader(replicas)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    wait_for(lambda: leader.polls("approvals") >= 4, timeout=30, what="a few rounds")

    rounds = leader.polls("approvals")
    listings = len(order_listings(commerce))
    # One listing per round (read after the round count: one more round may have started since).
    assert rounds <= listings <= rounds + 2
    for follower in (r for r in replicas if r is not leader):
        assert follower.polls("approvals") == 0
        assert follower.polls("process_status") == 0
    for replica in replicas:
        ready = replica.get("/readyz")
        assert ready is not None and ready.status_code == 200, replica.name
    assert cards_posted(slack, approval_id) == 1


def test_when_the_leader_is_killed_another_replica_polls_within_two_intervals(
    start_replicas: StartReplicas,
    fresh_postgres_url: str,
    commerce: CommerceEmulator,
    slack: SlackEmulator,
) -> None:
    replicas = start_replicas(3, fresh_postgres_url)
    leader = wait_for_leader(replicas)
    before = commerce.add_approval(ApprovalKind.ORDER)
    wait_for(lambda: cards_posted(slack, before), timeout=30, what="the first card")

    leader.kill()
    during = commerce.add_approval(ApprovalKind.BUYER)
    survivors = [r for r in replicas if r is not leader]
    successor = wait_for_leader(survivors, what="a survivor to take over")
    after = commerce.add_approval(ApprovalKind.ORDER)
    wait_for(lambda: successor.polls("approvals") >= 3, timeout=30, what="rounds on the new leader")

    listings = order_listings(commerce)
    longest_gap = max(later - earlier for earlier, later in pairwise(listings))
    assert longest_gap <= 2 * POLL_SECONDS, f"no round for {longest_gap:.2f}s"
    for approval_id in (before, during, after):
        assert cards_posted(slack, approval_id) == 1, approval_id


def test_without_postgresql_nobody_polls_nobody_crashes_and_one_leads_again(
    start_replicas: StartReplicas, commerce: CommerceEmulator, slack: SlackEmulator
) -> None:
    with private_server() as postgres:
        replicas = start_replicas(3, postgres.url("approvals_test"))
        wait_for_leader(replicas)

        postgres.halt()
        wait_for(
            lambda: all(r.leading() is False for r in replicas), timeout=30, what="every replica to stop"
        )
        listed = len(order_listings(commerce))
        assert stays(lambda: len(order_listings(commerce)) == listed, for_seconds=2 * POLL_SECONDS)
        during = commerce.add_approval(ApprovalKind.ORDER)

        postgres.start(port=postgres.port)
        wait_for_leader(replicas, what="one replica to lead again")
        wait_for(lambda: cards_posted(slack, during), timeout=30, what="the card held back by the outage")
        assert stays(lambda: the_leader(replicas) is not None, for_seconds=POLL_SECONDS)

    assert cards_posted(slack, during) == 1
    for replica in replicas:
        assert replica.alive, replica.log()
        assert "Traceback" not in replica.log()
