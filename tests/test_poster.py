"""Posting pace: never more than one message per interval in one channel (a lower bound, not a speed
test); and which failed posts are a definite no and which may have posted."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.slack import DEFAULT_BOT_TOKEN, SlackEmulator
from bot.slack.outbound.poster import PostOutcomeUnknown, SlackPoster
from tests.cli_process import free_port

INTERVAL = 0.2


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    slack = SlackEmulator()
    slack.start()
    yield slack
    slack.stop()


@pytest.mark.parametrize("first_late", [False, True], ids=["on-time", "first-late"])
def test_posts_in_one_channel_are_spaced_by_the_interval(emulator: SlackEmulator, first_late: bool) -> None:
    """Measured where Slack counts them, as they arrive: also when the first post of a channel reaches
    Slack late (a slow network, a busy machine) and the next one does not."""
    arrivals: dict[str, list[float]] = {}

    def note_arrival(request: RecordedRequest) -> None:
        channel = str(
            request.json().get("channel") if request.body.startswith(b"{") else request.form().get("channel")
        )
        if first_late and channel not in arrivals:
            arrivals[channel] = []
            time.sleep(INTERVAL / 2)
        arrivals.setdefault(channel, []).append(time.monotonic())

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
        assert all(gap >= INTERVAL * 0.99 for gap in gaps), gaps
    assert [m.text for m in emulator.channel_messages("C_ONE")] == ["message 0", "message 1", "message 2"]


# -- definite failures and unknown outcomes ------------------------------------------------------------


def post_once(base_url: str, token: str = DEFAULT_BOT_TOKEN) -> BaseException | None:
    """Posts one message with no retry; the error raised, ``None`` when it was posted."""

    async def post() -> BaseException | None:
        client = AsyncWebClient(token=token, base_url=base_url, timeout=2)
        client.retry_handlers = []
        try:
            await SlackPoster(client, min_interval_seconds=0).post("C1", "hello", [])
        except Exception as error:
            return error
        return None

    return asyncio.run(post())


@pytest.mark.parametrize(
    ("fault", "unknown"),
    [
        (Response(body={"ok": False, "error": "channel_not_found"}), False),
        (
            Response(status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}),
            False,
        ),
        (Response(status=500, body={"ok": False, "error": "internal_error"}), True),
        (Response(status=503, body="upstream gone", content_type="text/plain"), True),
        # A proxy's error page labelled as JSON: slack_sdk raises with the raw aiohttp response.
        (Response(status=502, body="<html>bad gateway</html>", content_type="application/json"), True),
        (Response(withhold="drop"), True),
    ],
    ids=["ok false", "429", "500", "503 html", "502 not json", "dropped"],
)
def test_only_an_answer_that_never_came_makes_the_outcome_unknown(
    emulator: SlackEmulator, fault: Response, unknown: bool
) -> None:
    emulator.fail_next(1, fault)
    error = post_once(emulator.api_url)
    assert error is not None
    assert isinstance(error, PostOutcomeUnknown) is unknown


def test_a_connection_refused_is_a_definite_no() -> None:
    error = post_once(f"http://127.0.0.1:{free_port()}/api/")
    assert error is not None and not isinstance(error, PostOutcomeUnknown)
