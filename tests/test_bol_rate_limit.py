"""bol.com rate-limit headers: one pacer for the whole process waits when the budget is spent."""

from __future__ import annotations

import asyncio

from bot.bol.rate_limit import RateLimitPacer
from bot.sandbox.bol import BolEmulator
from tests.test_bol_client import RecordingSleep, client_for, run

pytest_plugins = ["tests.test_bol_client"]  # its emulator and sleep fixtures


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_spent_budget_makes_every_client_of_the_process_wait_for_the_reset(
    emulator: BolEmulator, sleep: RecordingSleep
) -> None:
    ids = emulator.add_processes(3)
    emulator.rate_limit_budget = 2
    emulator.rate_limit_reset_seconds = 7
    clock = FrozenClock()
    pacer = RateLimitPacer(clock=clock, sleep=sleep)

    async def scenario() -> None:
        async with (
            client_for(emulator, sleep=sleep, pacer=pacer) as first,
            client_for(emulator, sleep=sleep, pacer=pacer) as second,
        ):
            await first.get_process_status(ids[0])  # remaining 1
            assert sleep.calls == []
            await first.get_process_status(ids[1])  # remaining 0, reset in 7 s
            assert sleep.calls == []
            await second.get_process_status(ids[2])  # the other client waits too
            assert sleep.calls == [7.0]

    run(scenario())


def test_budget_left_or_no_headers_never_wait(emulator: BolEmulator, sleep: RecordingSleep) -> None:
    ids = emulator.add_processes(3)
    pacer = RateLimitPacer(clock=FrozenClock(), sleep=sleep)

    async def scenario() -> None:
        async with client_for(emulator, sleep=sleep, pacer=pacer) as client:
            await client.get_process_statuses(ids)
            emulator.rate_limit_budget = 100
            await client.get_process_statuses(ids)
            await asyncio.gather(*(client.get_process_status(i) for i in ids))

    run(scenario())
    assert sleep.calls == []
