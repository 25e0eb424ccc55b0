"""The demo's sample store over time: the offer upload finishes within a minute, new orders arrive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.sandbox import BolEmulator, CommerceEmulator, SlackEmulator
from bot.sandbox.sample_data import ARRIVAL_EVERY, FAILURES, OFFER_UPLOAD_SIZE, Sample, Timeline, fill


@pytest.fixture
def sample() -> Iterator[Sample]:
    slack, commerce, bol = SlackEmulator(), CommerceEmulator(), BolEmulator()
    servers = (slack, commerce, bol)
    for server in servers:
        server.start()
    yield fill(slack, commerce, bol)
    for server in servers:
        server.stop()


def _statuses(sample: Sample) -> list[str]:
    return [sample.bol.processes[process_id]["status"] for process_id in sample.offer_upload]


def test_the_offer_upload_finishes_within_the_first_minute_with_real_looking_failures(sample: Sample) -> None:
    timeline = Timeline(sample)
    assert len(sample.offer_upload) == OFFER_UPLOAD_SIZE
    assert set(_statuses(sample)) == {"PENDING"}

    timeline.advance(timedelta(seconds=30))
    assert "PENDING" in _statuses(sample)
    assert "SUCCESS" in _statuses(sample)

    timeline.advance(timedelta(seconds=60))
    statuses = _statuses(sample)
    assert "PENDING" not in statuses
    assert statuses.count("FAILURE") == len(FAILURES)
    failures = [sample.bol.processes[sample.offer_upload[position]] for position in FAILURES]
    assert all(failure["status"] == "FAILURE" and failure["errorMessage"] for failure in failures)


def test_new_orders_keep_arriving(sample: Sample) -> None:
    def pending_orders() -> int:
        with sample.commerce.lock:
            return sum(1 for a in sample.commerce._approvals.values() if a["flowTypeId"] == "10005")

    timeline = Timeline(sample)
    before = pending_orders()
    timeline.advance(ARRIVAL_EVERY * 2)
    assert pending_orders() == before + 2
    timeline.advance(ARRIVAL_EVERY * 2)  # the same moment again: nothing more
    assert pending_orders() == before + 2


def test_the_store_has_a_buyer_registration_and_a_self_submitted_order(sample: Sample) -> None:
    with sample.commerce.lock:
        approvals = list(sample.commerce._approvals.values())
    assert any(a["flowTypeId"] == "10004" for a in approvals)  # a buyer registration
    assert any(a["submitterId"] == sample.self_submitter.user_id for a in approvals)
