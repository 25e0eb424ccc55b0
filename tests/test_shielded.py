"""Work that runs on after its caller was cancelled (a shutdown mid-post) answers for itself."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable

import pytest

from bot.error_text import one_line
from bot.shielded import shielded


def test_work_whose_caller_was_cancelled_runs_to_its_end_and_reports_its_failure_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    ended: list[str] = []
    asyncio.run(_cancel_the_caller_of_a_failing_post(ended))
    gc.collect()  # a task nobody retrieved reports itself when collected

    assert ended == ["post"]
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        (
            "WARNING",
            "the reminder's post in C1 failed after its caller was cancelled: "
            "RuntimeError: Slack did not answer",
        )
    ]


def test_the_report_words_the_failure_as_its_caller_words_its_own(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    ended: list[str] = []
    asyncio.run(_cancel_the_caller_of_a_failing_post(ended, lambda error: "Slack answered ratelimited"))
    gc.collect()

    assert [r.getMessage() for r in caplog.records] == [
        "the reminder's post in C1 failed after its caller was cancelled: Slack answered ratelimited"
    ]


async def _cancel_the_caller_of_a_failing_post(
    ended: list[str], describe: Callable[[BaseException], str] = one_line
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def post() -> int:
        started.set()
        await release.wait()
        ended.append("post")
        raise RuntimeError("Slack did not answer\nsecond line")

    caller = asyncio.create_task(shielded(post(), "the reminder's post in C1", describe))
    await started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    while not ended:
        await asyncio.sleep(0)
    await asyncio.sleep(0)  # the done callback runs on the next turn of the loop


def test_a_caller_not_cancelled_gets_the_result_or_the_error_itself(caplog: pytest.LogCaptureFixture) -> None:
    asyncio.run(_answered_and_refused())
    gc.collect()
    assert caplog.records == []


async def _answered_and_refused() -> None:
    async def answer() -> int:
        return 7

    async def refuse() -> int:
        raise ValueError("no")

    assert await shielded(answer(), "answer") == 7
    with pytest.raises(ValueError, match="no"):
        await shielded(refuse(), "refuse")
