"""The store's write path on SQLite: one writer at a time, a decision's claim before other writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from bot.storage.engine import create_engine, writer
from bot.storage.rows import Turns, Writer


def test_a_claim_waiting_for_the_sqlite_writer_goes_before_writes_that_came_earlier(tmp_path: Path) -> None:
    async def main() -> list[str]:
        engine = create_engine(f"sqlite:///{tmp_path}/w.db")
        order: list[str] = []
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (name TEXT)"))
            writes = Writer(writer(engine), one_at_a_time=True)

            async def write(name: str, *, first: bool = False) -> None:
                async with writes.begin(first=first) as conn:
                    await conn.execute(text("INSERT INTO t VALUES (:name)"), {"name": name})
                    order.append(name)

            async with writes.begin():  # the writer is busy
                later = [asyncio.create_task(write(n)) for n in ("record 1", "record 2")]
                later.append(asyncio.create_task(write("claim", first=True)))
                await asyncio.sleep(0)  # every write is waiting now
                assert order == []
            await asyncio.gather(*later)
            async with engine.connect() as conn:
                stored = [row.name for row in await conn.execute(text("SELECT name FROM t ORDER BY rowid"))]
            assert stored == order
            return order
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == ["claim", "record 1", "record 2"]


def test_a_waiter_cancelled_before_or_after_its_turn_passes_the_lock_on() -> None:
    async def main() -> list[str]:
        turns = Turns()
        got: list[str] = []

        async def take(name: str, *, first: bool = False) -> None:
            async with turns.held(first=first):
                got.append(name)

        async with turns.held():
            gone = asyncio.create_task(take("cancelled while waiting", first=True))
            handed = asyncio.create_task(take("cancelled when handed the lock", first=True))
            last = asyncio.create_task(take("last"))
            await asyncio.sleep(0)
            gone.cancel()
        handed.cancel()  # it was handed the lock on release, and is cancelled before it runs
        await asyncio.gather(gone, handed, last, return_exceptions=True)
        async with turns.held():  # free again: not held by a cancelled waiter
            got.append("after")
        return got

    assert asyncio.run(main()) == ["last", "after"]
