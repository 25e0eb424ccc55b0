"""Posting pace: never more than one message per interval in one channel (a lower bound, not a speed test)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.outbound.poster import SlackPoster
from tests.emulators.base import RecordedRequest
from tests.emulators.slack import SlackEmulator

INTERVAL = 0.2


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    slack = SlackEmulator()
    slack.start()
    yield slack
    slack.stop()


def test_posts_in_one_channel_are_spaced_by_the_interval(emulator: SlackEmulator) -> None:
    arrivals: dict[str, list[float]] = {}

    def note_arrival(request: RecordedRequest) -> None:
        channel = (
            request.json().get("channel") if request.body.startswith(b"{") else request.form().get("channel")
        )
        arrivals.setdefault(str(channel), []).append(time.monotonic())

    emulator.inject(
        lambda request: note_arrival(request) if request.path.endswith("chat.postMessage") else None
    )

    async def post_burst() -> list[str]:
        poster = SlackPoster(
            AsyncWebClient(token=emulator.token, base_url=emulator.api_url), min_interval_seconds=INTERVAL
        )
        return await asyncio.gather(
            *(poster.post(channel, f"message {i}", []) for i in range(3) for channel in ("C_ONE", "C_TWO"))
        )

    timestamps = asyncio.run(post_burst())

    assert len(set(timestamps)) == 6
    for channel in ("C_ONE", "C_TWO"):
        times = arrivals[channel]
        assert len(times) == 3
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= INTERVAL * 0.9 for gap in gaps), gaps
    assert [m.text for m in emulator.channel_messages("C_ONE")] == ["message 0", "message 1", "message 2"]
