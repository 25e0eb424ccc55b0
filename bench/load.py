"""Signed Slack requests, built (and signed) before the clock starts, sent by N concurrent clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import aiohttp
import httpx

from bench.baselines import EVENTS_PATH, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender

Prepared = tuple[bytes, dict[str, str]]


class RequestBuilder(SlackRequestSender):
    """``SlackRequestSender`` that keeps the signed body and headers instead of sending them."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", SIGNING_SECRET)
        self.prepared: list[Prepared] = []

    def raw(self, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        self.prepared.append((body, dict(headers)))
        return httpx.Response(200)

    def take(self) -> Prepared:
        return self.prepared.pop()


@dataclass(frozen=True)
class LoadResult:
    latencies_ms: list[float]
    seconds: float
    """Wall time of the whole run."""
    refused: int = 0
    """Answers that held the ``refused`` marker (a busy bot's ack)."""

    @property
    def per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds


async def _send_all(
    port: int, requests: list[Prepared], concurrency: int, expect: bytes | None, refused: bytes | None
) -> LoadResult:
    url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
    latencies: list[float] = []
    refusals = 0
    work: Iterator[Prepared] = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal refusals
            for body, headers in work:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    answer = await response.read()
                latencies.append((time.perf_counter() - started) * 1000)
                refusals += refused is not None and refused in answer
                if response.status != 200 or (expect is not None and expect not in answer):
                    raise RuntimeError(f"unexpected answer {response.status}: {answer[:200]!r}")

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(latencies, seconds, refusals)


def send_all(
    port: int,
    requests: list[Prepared],
    concurrency: int,
    expect: bytes | None = None,
    refused: bytes | None = None,
) -> LoadResult:
    """Sends every request over ``concurrency`` kept-alive connections, each one after another;
    counts the answers that hold ``refused``."""
    return asyncio.run(_send_all(port, requests, concurrency, expect, refused))
