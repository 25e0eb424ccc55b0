"""``POST /api/v1/process-status/watches`` with 1,000 new ids, over HTTP, at concurrency 1 and 8, on
SQLite and PostgreSQL.

The bot (``BotHost``, API on, notifier off) against ``IngestHost``: a bare aiohttp handler doing the
same JSON parse and one bulk insert into the same kind of table, on the same database. Each request
carries ids no one watches yet, so every one is a new batch; both servers' tables grow alike over
the run. Figures: requests a second and the p95 latency of a run.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterator

import aiohttp

from bench import sets
from bench.baselines import API_TOKEN, WATCHES_PATH, IngestHost
from bench.bothost import BotHost
from bench.load import LoadResult
from bench.remote import Remote
from bench.report import Figure, percentile

IDS = 1_000
CONCURRENCY = (1, 8)
TARGET = "<= 2x"


def bodies(count: int) -> list[bytes]:
    """``count`` request bodies of ``IDS`` ids each, none seen before."""
    tag = time.monotonic_ns()
    return [json.dumps({"ids": [f"{tag}-{n}-{i}" for i in range(IDS)]}).encode() for n in range(count)]


async def _post_all(port: int, requests: list[bytes], concurrency: int) -> LoadResult:
    url = f"http://127.0.0.1:{port}{WATCHES_PATH}"
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    latencies: list[float] = []
    work: Iterator[bytes] = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for body in work:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    answer = await response.read()
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 201:
                    raise RuntimeError(f"unexpected answer {response.status}: {answer[:200]!r}")

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(latencies, seconds)


def post_all(port: int, requests: list[bytes], concurrency: int) -> LoadResult:
    return asyncio.run(_post_all(port, requests, concurrency))


def _figures(name: str, bot: Remote, bare: Remote, rounds: int, count: int) -> list[Figure]:
    figures: list[Figure] = []
    by_concurrency = {}
    for concurrency in CONCURRENCY:
        rps = Figure(
            f"{name}: ingest {IDS:,} ids over HTTP @{concurrency}",
            "req/s",
            "bare aiohttp + bulk insert",
            higher_is_better=True,
            target=TARGET,
        )
        p95 = Figure(
            f"{name}: ingest {IDS:,} ids over HTTP @{concurrency} p95",
            "ms",
            "bare aiohttp + bulk insert",
            target=TARGET,
        )
        by_concurrency[concurrency] = (rps, p95)
        figures += [rps, p95]
    bot_port, bare_port = bot.call("port"), bare.call("port")
    post_all(bot_port, bodies(3), 1)  # warm up
    post_all(bare_port, bodies(3), 1)
    for _ in range(rounds):
        for concurrency, (rps, p95) in by_concurrency.items():
            ours = post_all(bot_port, bodies(count), concurrency)
            theirs = post_all(bare_port, bodies(count), concurrency)
            rps.add(ours.per_second, theirs.per_second)
            p95.add(percentile(ours.latencies_ms, 0.95), percentile(theirs.latencies_ms, 0.95))
    return figures


def run(emulators: Remote, rounds: int, count: int) -> list[Figure]:
    """``count`` requests per run; PostgreSQL left out when it cannot be started here."""
    addresses = emulators.call("addresses")
    figures: list[Figure] = []
    with sets.databases() as urls, tempfile.TemporaryDirectory() as tmp:
        for name, url in urls.items():
            bare_url = url if name != "sqlite" else f"sqlite:///{tmp}/bare.db"
            api = [{"name": "bench", "token": API_TOKEN, "channels": []}]
            with (
                Remote(BotHost, addresses, url, api_tokens=json.dumps(api)) as bot,
                Remote(IngestHost, bare_url) as bare,
            ):
                figures += _figures(name, bot, bare, rounds, count)
    return figures
