"""A 60-card backlog: how long approvals that arrive meanwhile wait for their card, and how many cards
go out for approvals decided in Commerce while they waited in the queue (stale cards).

The bot runs its notifier loops for real (approvals poll every ``POLL_SECONDS``, posts paced to one
per ``POST_SECONDS`` in the channel: production's 30 s and 1 s, scaled down). The baseline for the
latency is the floor any poller has: one poll interval plus one post interval.
"""

from __future__ import annotations

import tempfile
import time

from bench.bothost import BotHost
from bench.emulated import EmulatorHost
from bench.remote import Remote
from bench.report import Figure

BACKLOG = 60
POLL_SECONDS = 0.5
POST_SECONDS = 0.1
ARRIVALS = 6
DECIDED_ELSEWHERE = 10


def one_round() -> tuple[list[float], int]:
    """(announcement latency in ms of each arrival, stale cards posted)."""
    with tempfile.TemporaryDirectory() as tmp, Remote(EmulatorHost) as emulators:
        addresses = emulators.call("addresses")
        backlog = emulators.call("add_approvals", BACKLOG)
        settings = {
            "notifier_enabled": True,
            "approvals_poll_seconds": POLL_SECONDS,
            "slack_post_interval_seconds": POST_SECONDS,
        }
        with Remote(BotHost, addresses, f"{tmp}/bench.db", **settings):
            emulators.call("wait_for_cards", backlog[:1], timeout=60)
            # Decided in Commerce while still queued: their cards should never go out.
            tail = backlog[-DECIDED_ELSEWHERE:]
            emulators.call("decide_elsewhere", tail)
            decided_at = time.monotonic()
            arrived: dict[str, float] = {}
            for _ in range(ARRIVALS):
                (approval_id,) = emulators.call("add_approvals", 1)
                arrived[approval_id] = time.monotonic()
                time.sleep(POLL_SECONDS)
            posted = emulators.call("wait_for_cards", list(arrived), timeout=120)
            emulators.call("wait_for_cards", backlog[: BACKLOG - DECIDED_ELSEWHERE], timeout=120)
            cards = emulators.call("cards")
    stale = sum(1 for i in tail if i in cards and cards[i][1] > decided_at + POLL_SECONDS + 2 * POST_SECONDS)
    return [(posted[i] - arrived[i]) * 1000 for i in arrived], stale


def run(rounds: int) -> list[Figure]:
    floor_ms = (POLL_SECONDS + POST_SECONDS) * 1000
    p50 = Figure(f"backlog {BACKLOG}: new card latency p50", "ms", "poll+post floor")
    worst = Figure(f"backlog {BACKLOG}: new card latency max", "ms", "poll+post floor")
    stale = Figure(f"backlog {BACKLOG}: stale cards posted (of {DECIDED_ELSEWHERE})", "cards", "none")
    stale.difference = True
    for _ in range(rounds):
        latencies, stale_count = one_round()
        p50.add(sorted(latencies)[len(latencies) // 2], floor_ms)
        worst.add(max(latencies), floor_ms)
        stale.add(stale_count, 0)
    return [p50, worst, stale]
