"""The store's time limit on SQLite: a call its caller abandons is left to end, and closing the
store waits for it, within a bound, without cutting it off."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage.time_limit import StoreUnavailable, TimeLimit


def test_a_call_over_the_limit_is_left_to_end_even_when_the_wait_for_it_is_cancelled() -> None:
    async def scenario() -> tuple[list[str], bool]:
        limit = TimeLimit(0.01, cancels=False)
        release = asyncio.Event()
        ended: list[str] = []

        async def call() -> int:
            await release.wait()
            ended.append("call")
            return 1

        with pytest.raises(StoreUnavailable):
            await limit.run(call(), "call")
        waiting = asyncio.ensure_future(limit.settle(60))  # a shutdown that is itself cut short
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        release.set()
        return ended, await limit.settle(60)

    assert asyncio.run(scenario()) == (["call"], True)


def test_the_wait_for_a_call_that_never_ends_gives_up_at_its_bound() -> None:
    async def scenario() -> bool:
        limit = TimeLimit(0.01, cancels=False)
        never = asyncio.Event()
        caller = asyncio.ensure_future(limit.run(never.wait(), "stuck"))
        await asyncio.sleep(0)
        caller.cancel()  # abandoned by a cancelled caller, not over the limit
        await asyncio.gather(caller, return_exceptions=True)
        ended = await limit.settle(0.05)
        never.set()  # let it end before the loop closes
        await limit.settle(1)
        return ended

    assert asyncio.run(scenario()) is False
