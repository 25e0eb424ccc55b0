"""Slash command acks: ``/approvals help`` (answered in the ack) at concurrency 1, 8 and 32; and the
goodput of ``/approvals list`` (answered after the ack, through its ``response_url``): real answers
a second at concurrency 8 and 32 against the same at concurrency 1, a busy bot's refusals not counted.

The bot and three baselines (bare Bolt, Bolt with ``process_before_response=True``, bare aiohttp),
each in a process of its own; the load generator runs here and the emulators in a third process,
so the CPU time read in a server's process is that server's alone.
"""

from __future__ import annotations

import time

from bench.load import RequestBuilder, send_all
from bench.remote import Remote
from bench.report import Figure, percentile

CONCURRENCY = (1, 8, 32)
BASELINES = {"bolt": "bare Bolt", "bolt_pbr": "Bolt+pbr", "aiohttp": "bare aiohttp"}
EXPECTED = b"How to use /approvals"
BUSY = b"busy right now"
LIST_CONCURRENCY = (1, 8, 32)
ANSWER_TIMEOUT_SECONDS = 120.0


def help_requests(count: int) -> list[tuple[bytes, dict[str, str]]]:
    builder = RequestBuilder()
    for _ in range(count):
        builder.slash_command("/approvals", "help", user_id="U_BENCH", channel_id="C_BENCH")
    return builder.prepared


def list_requests(response_urls: list[str]) -> list[tuple[bytes, dict[str, str]]]:
    builder = RequestBuilder()
    for url in response_urls:
        builder.slash_command("/approvals", "list", user_id="U_BENCH", channel_id="C_BENCH", response_url=url)
    return builder.prepared


def goodput(bot: Remote, emulators: Remote, count: int, concurrency: int) -> dict[str, float]:
    """Real answers a second (posted to their ``response_url``, from the first request to the last
    answer) of ``count`` ``/approvals list`` commands, and how many the bot refused as busy."""
    urls = emulators.call("new_response_urls", count)
    requests = list_requests(urls)
    started = time.perf_counter()
    result = send_all(bot.call("port"), requests, concurrency, refused=BUSY)
    accepted = count - result.refused
    deadline = started + ANSWER_TIMEOUT_SECONDS
    while (answered := emulators.call("answered", urls)) < accepted and time.perf_counter() < deadline:
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    return {"answers": answered / seconds, "refused": result.refused}


def list_goodput(bot: Remote, emulators: Remote, rounds: int, count: int) -> list[Figure]:
    """``/approvals list`` answers a second at each of ``LIST_CONCURRENCY`` against concurrency 1."""
    emulators.call("add_approvals", 5)  # something to list
    goodput(bot, emulators, 20, 4)  # warm up
    runs: dict[int, list[dict[str, float]]] = {}
    for _ in range(rounds):
        for concurrency in LIST_CONCURRENCY:
            runs.setdefault(concurrency, []).append(goodput(bot, emulators, count, concurrency))
    figures = []
    for concurrency in LIST_CONCURRENCY[1:]:
        refused = sorted(int(run["refused"]) for run in runs[concurrency])
        figure = Figure(
            f"list answers/s @{concurrency} ({refused[0]}-{refused[-1]} of {count} refused busy)",
            "answers/s",
            "bot @1",
            higher_is_better=True,
            target="<= 1.25x" if concurrency == 32 else "",
        )
        for loaded, single in zip(runs[concurrency], runs[1], strict=True):
            figure.add(loaded["answers"], single["answers"])
        figures.append(figure)
    return figures


def measure(server: Remote, count: int, concurrency: int) -> dict[str, float]:
    """p50, p95 (ms), req/s and CPU ms per command of the server's process for one run."""
    requests = help_requests(count)
    cpu_before = server.call("cpu_seconds")
    result = send_all(server.call("port"), requests, concurrency, EXPECTED)
    cpu = server.call("cpu_seconds") - cpu_before
    return {
        "p50": percentile(result.latencies_ms, 0.5),
        "p95": percentile(result.latencies_ms, 0.95),
        "rps": result.per_second,
        "cpu": cpu * 1000 / count,
    }


def run(servers: dict[str, Remote], rounds: int, count: int) -> list[Figure]:
    """``servers``: ``bot`` plus every key of ``BASELINES``. Rounds interleave the servers."""
    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    for server in servers.values():
        send_all(server.call("port"), help_requests(30), 4, EXPECTED)  # warm up (auth.test, imports)
    for _ in range(rounds):
        for concurrency in CONCURRENCY:
            for name, server in servers.items():
                runs.setdefault((name, concurrency), []).append(measure(server, count, concurrency))
    figures: list[Figure] = []
    for concurrency in CONCURRENCY:
        for metric, unit in (("p50", "ms"), ("p95", "ms"), ("rps", "req/s")):
            for baseline, label in BASELINES.items():
                target = ""
                if baseline == "bolt_pbr" and metric == "p50" and concurrency < 32:
                    target = "<= 3x"
                if baseline == "bolt_pbr" and metric == "rps" and concurrency == 32:
                    target = "<= 1.25x"  # at least 0.8x Bolt's requests a second
                figure = Figure(
                    f"ack {metric} @{concurrency}",
                    unit,
                    label,
                    higher_is_better=metric == "rps",
                    target=target,
                )
                for bot, base in zip(runs["bot", concurrency], runs[baseline, concurrency], strict=True):
                    figure.add(bot[metric], base[metric])
                figures.append(figure)
    for concurrency in CONCURRENCY:
        figure = Figure(
            f"ack CPU/command @{concurrency}", "ms", "bot @1", target="<= 1.3x" if concurrency > 1 else ""
        )
        for bot, first in zip(runs["bot", concurrency], runs["bot", 1], strict=True):
            figure.add(bot["cpu"], first["cpu"])
        figures.append(figure)
        figure = Figure(f"ack CPU/command @{concurrency}", "ms", "Bolt+pbr")
        for bot, base in zip(runs["bot", concurrency], runs["bolt_pbr", concurrency], strict=True):
            figure.add(bot["cpu"], base["cpu"])
        figures.append(figure)
    return figures
