"""The store's set statements, on SQLite and PostgreSQL: claiming a backlog summary's cards and
ingesting a batch of 1,000 ids next to many watched processes.

Run in this process against the store itself (no HTTP): the ingest figure is the store's share of
``POST /api/v1/process-status/watches``, not the request's. Baselines, on the same database:
- claims one by one: ``claim_card`` per approval, one transaction each (what a summary did before);
- bare bulk insert: the same rows in one executemany INSERT into a scratch table with the same key,
  nothing else (no conflict handling, no batch row).
PostgreSQL runs on a private cluster (``tests/pg.py``) when its binaries are installed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from bench.report import Figure
from bot.storage.records import Notify
from bot.storage.schema import batch_processes
from bot.storage.store import Store

INGEST_IDS = 1_000
ONE_BY_ONE = 2_000
"""Claims one at a time are timed at this size only (50,000 of them took 45 s)."""

_scratch = MetaData()
_bare = Table(
    "bench_bare_rows",
    _scratch,
    Column("batch_id", String(32), primary_key=True),
    Column("process_status_id", String(64), primary_key=True),
    Column("channel", String(64), nullable=False),
)


@contextmanager
def databases() -> Iterator[dict[str, str]]:
    """``{"sqlite": url, "postgresql": url}``, PostgreSQL left out when it cannot be started."""
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite:///{tmp}/sets.db"}
        try:
            from tests.pg import private_server

            with private_server("bench") as server:
                urls["postgresql"] = server.url("bench")
                yield urls
                return
        except BaseException as error:  # pytest's skip is a BaseException
            if isinstance(error, KeyboardInterrupt):
                raise
            print(f"(PostgreSQL not measured: {type(error).__name__})", flush=True)
        yield urls


async def _claims(url: str, size: int, one_by_one: bool) -> float:
    """ms to claim ``size`` new cards."""
    store = await Store.open(url)
    try:
        prefix = f"{time.monotonic_ns()}-"
        kinds = {f"{prefix}{i}": "order" for i in range(size)}
        started = time.perf_counter()
        if one_by_one:
            for approval_id in kinds:
                await store.claim_card(approval_id, "order")
        else:
            await store.claim_cards(kinds)
        return (time.perf_counter() - started) * 1000
    finally:
        await store.close()


async def _ingest(url: str, watched: int) -> tuple[float, float]:
    """(ms for ``create_batch`` of 1,000 new ids, ms for the bare bulk insert of as many rows), with
    ``watched`` processes actively watched in the channel."""
    store = await Store.open(url)
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(_scratch.create_all)
        tag = str(time.monotonic_ns())
        async with store.engine.connect() as conn:
            active = select(func.count()).where(batch_processes.c.finished_at.is_(None))
            have = int((await conn.execute(active)).scalar_one())
        for start in range(have, watched, 5_000):
            ids = [f"w{i}" for i in range(start, min(watched, start + 5_000))]
            await store.create_batch(ids, "C1", label=None, notify=Notify.ALL, requested_by="bench")
        ids = [f"{tag}-{i}" for i in range(INGEST_IDS)]
        started = time.perf_counter()
        await store.create_batch(ids, "C1", label=None, notify=Notify.ALL, requested_by="bench")
        bot_ms = (time.perf_counter() - started) * 1000
        rows = [{"batch_id": tag, "process_status_id": i, "channel": "C1"} for i in ids]
        started = time.perf_counter()
        async with store.engine.begin() as conn:
            await conn.execute(insert(_bare), rows)
        bare_ms = (time.perf_counter() - started) * 1000
        return bot_ms, bare_ms
    finally:
        await store.close()


def run(rounds: int, backlog_sizes: list[int], watched_sizes: list[int]) -> list[Figure]:
    figures: list[Figure] = []
    with databases() as urls:
        for name, url in urls.items():
            before = Figure(f"{name}: claim {ONE_BY_ONE:,} summary cards", "ms", "one by one")
            figures.append(before)
            for _ in range(rounds):
                before.add(
                    asyncio.run(_claims(url, ONE_BY_ONE, False)), asyncio.run(_claims(url, ONE_BY_ONE, True))
                )
            for size in backlog_sizes:
                at_size = Figure(f"{name}: claim {size:,} summary cards", "ms", "none")
                at_size.difference = True
                for _ in range(rounds):
                    at_size.add(asyncio.run(_claims(url, size, False)), 0)
                figures.append(at_size)
            for watched in watched_sizes:
                ingest = Figure(
                    f"{name}: ingest {INGEST_IDS:,} ids @{watched:,} watched", "ms", "bare bulk insert"
                )
                for _ in range(rounds):
                    ingest.add(*asyncio.run(_ingest(url, watched)))
                figures.append(ingest)
    return figures
