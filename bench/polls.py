"""Approvals poll (first and steady) and process-status poll at several sizes, each size in a fresh
bot process (and fresh emulators) so peak RSS does not carry over.

Baselines, sent from this process over plain httpx:
- bare listing: every page of pending approvals (both kinds, the bot's page size), nothing else;
- bare bulk: the bulk process-status POSTs for every watched id, 1000 a call, nothing else.
RSS figures compare with the smallest size (the issue's "within 25 MiB of the 1,000-watch figure").
"""

from __future__ import annotations

import statistics
import tempfile
import time

import httpx

from bench.bothost import BotHost
from bench.emulated import EmulatorHost
from bench.remote import Remote
from bench.report import Figure
from bot.bol.client import MEDIA_TYPE
from bot.bol.wire import bulk_body

PAGE_SIZE = 200
BULK_IDS = 1000


def bare_listing(addresses: dict[str, str]) -> tuple[float, int]:
    """(ms, requests) to list every pending approval of both kinds, page by page."""
    base = f"{addresses['commerce_base_url']}/store/{addresses['commerce_store_id']}/"
    with httpx.Client(base_url=base, timeout=120) as http:
        tokens = http.post(
            "loginidentity",
            json={
                "logonId": addresses["commerce_logon_id"],
                "logonPassword": addresses["commerce_logon_password"],
            },
        ).json()
        http.headers.update({"WCToken": tokens["WCToken"], "WCTrustedToken": tokens["WCTrustedToken"]})
        started, requests = time.perf_counter(), 0
        for kind in ("orderApprovals", "buyerApprovals"):
            for page in range(1, 10_000):
                params = {"q": kind, "status": "0", "orderBy": "A-approvalStatusId"}
                params |= {"pageNumber": str(page), "pageSize": str(PAGE_SIZE)}
                body = http.get("approval_status", params=params).json()
                requests += 1
                if body["recordSetCompleteIndicator"] == "true":
                    break
        return (time.perf_counter() - started) * 1000, requests


def bare_bulk(addresses: dict[str, str], ids: list[str]) -> tuple[float, int]:
    """(ms, requests) to ask bol.com for every id, 1000 a call."""
    with httpx.Client(timeout=120) as http:
        token = http.post(
            addresses["bol_token_url"],
            data={"grant_type": "client_credentials"},
            auth=(addresses["bol_client_id"], addresses["bol_client_secret"]),
        ).json()["access_token"]
        headers = {"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE, "Authorization": f"Bearer {token}"}
        url = f"{addresses['bol_api_url'].rstrip('/')}/shared/process-status"
        started, requests = time.perf_counter(), 0
        for start in range(0, len(ids), BULK_IDS):
            response = http.post(url, json=bulk_body(ids[start : start + BULK_IDS]), headers=headers)
            response.raise_for_status()
            requests += 1
        return (time.perf_counter() - started) * 1000, requests


def _count(emulators: Remote, key: str) -> int:
    return int(emulators.call("request_counts")[key])


def approvals_at(size: int, rounds: int, smallest_peak: float | None) -> list[Figure]:
    """The first polls in one bot process, the steady polls in a fresh one, so the steady poll's peak
    RSS is its own (a first poll queues a card for every approval)."""
    first = Figure(f"approvals first poll @{size:,}", "ms", "bare listing")
    steady = Figure(f"approvals steady poll @{size:,}", "ms", "bare listing")
    calls = Figure(f"approvals poll listing calls @{size:,}", "calls", "bare listing")
    peak = Figure(f"approvals steady poll peak RSS @{size:,}", "MiB", "smallest size", difference=True)
    with tempfile.TemporaryDirectory() as tmp, Remote(EmulatorHost) as emulators:
        addresses = emulators.call("addresses")
        ids = emulators.call("add_approvals", size)
        for figure in (first, steady):
            with Remote(BotHost, addresses, f"{tmp}/bench.db") as bot:
                for _ in range(rounds):
                    before = _count(emulators, "commerce_listing")
                    poll_ms, _ = bot.call("poll_approvals")
                    bot_calls = _count(emulators, "commerce_listing") - before
                    bare_ms, bare_calls = bare_listing(addresses)
                    figure.add(poll_ms, bare_ms)
                    if figure is first:
                        calls.add(bot_calls, bare_calls)
                    emulators.call("forget_requests")
                if figure is first:
                    bot.call("seed_cards", ids)  # as if the announcer had posted them all
                else:
                    peak_mib = bot.call("peak_rss_mib")
    peak.add(peak_mib, smallest_peak if smallest_peak is not None else peak_mib)
    return [first, steady, calls, peak]


FINISHING = 1_000
"""Single watches that finish in the round measured for the cost per finished process."""


def processes_at(
    size: int, rounds: int, smallest_peak: float | None, smallest_finish: float | None
) -> list[Figure]:
    poll = Figure(f"process poll @{size:,} watches", "ms", "bare bulk")
    calls = Figure(f"process poll bulk calls @{size:,}", "calls", "bare bulk")
    peak = Figure(f"process poll peak RSS @{size:,}", "MiB", "smallest size", difference=True)
    finishing = _finishing_figures("sqlite", "singles", size)
    with tempfile.TemporaryDirectory() as tmp, Remote(EmulatorHost) as emulators:
        addresses = emulators.call("addresses")
        ids = emulators.call("add_processes", size)
        database = f"{tmp}/bench.db"
        with Remote(BotHost, addresses, database) as seeder:  # seeds in a process of its own: RSS
            seeder.call("seed_watches", ids)
        with Remote(BotHost, addresses, database) as bot:
            peaks = []
            for _ in range(rounds):
                before = _count(emulators, "bol_bulk")
                poll_ms, _ = bot.call("poll_processes")
                bot_calls = _count(emulators, "bol_bulk") - before
                bare_ms, bare_calls = bare_bulk(addresses, ids)
                poll.add(poll_ms, bare_ms)
                calls.add(bot_calls, bare_calls)
                emulators.call("forget_requests")
                peaks.append(bot.call("peak_rss_mib"))
            _finish(bot, emulators, ids, rounds, finishing, smallest_finish)
    peak_mib = statistics.median(peaks)
    peak.add(peak_mib, smallest_peak if smallest_peak is not None else peak_mib)
    return [poll, calls, peak, *finishing]


BATCH_SIZE = 1_000
"""Processes per batch when the watched processes are batches."""


def _finishing_figures(database: str, kind: str, size: int) -> list[Figure]:
    name = database.split(":", 1)[0].split("+", 1)[0] if "://" in database else "sqlite"
    each = "single" if kind == "singles" else "batch process"
    return [
        Figure(f"{name}: round, {FINISHING:,} {kind} finishing @{size:,}", "ms", "steady round"),
        Figure(f"{name}: CPU per finished {each} @{size:,}", "ms", "smallest size"),
    ]


def _finish(
    bot: Remote, emulators: Remote, ids: list[str], rounds: int, figures: list[Figure], smallest: float | None
) -> None:
    """Pairs of rounds, a steady one then one in which the next ``FINISHING`` processes finish: the
    round's wall time against the steady one's, and the bot's extra CPU time per finished process
    (CPU rather than wall time: other work on the shared machine hardly moves it)."""
    round_figure, per_finish = figures
    for n in range(max(1, min(rounds, len(ids) // FINISHING))):
        cpu = bot.call("cpu_seconds")
        steady_ms, _ = bot.call("poll_processes")
        steady_cpu, cpu = bot.call("cpu_seconds") - cpu, bot.call("cpu_seconds")
        finished = ids[n * FINISHING : (n + 1) * FINISHING]
        emulators.call("finish_processes", finished)
        finish_ms, _ = bot.call("poll_processes")
        finish_cpu = bot.call("cpu_seconds") - cpu
        round_figure.add(finish_ms, steady_ms)
        each_ms = max(finish_cpu - steady_cpu, 0.0) * 1000 / len(finished)
        per_finish.add(each_ms, smallest if smallest is not None else each_ms)


def finishing_at(size: int, kind: str, database: str, rounds: int, smallest: float | None) -> list[Figure]:
    """Rounds in which ``FINISHING`` of ``size`` watched processes finish (single watches, or one whole
    batch of ``BATCH_SIZE``), each against the steady round before it: what the other watches add."""
    figures = _finishing_figures(database, kind, size)
    with tempfile.TemporaryDirectory() as tmp, Remote(EmulatorHost) as emulators:
        addresses = emulators.call("addresses")
        ids = emulators.call("add_processes", size)
        url = database if "://" in database else f"{tmp}/bench.db"
        with Remote(BotHost, addresses, url) as bot:
            bot.call("forget_processes")
            if kind == "singles":
                bot.call("seed_watches", ids)
            else:
                cards = emulators.call("post_messages", -(-size // BATCH_SIZE))
                bot.call("seed_batches", ids, cards)
            bot.call("poll_processes")  # warms the connection pool and the statement cache
            _finish(bot, emulators, ids, rounds, figures, smallest)
    return figures


def finishing(kind: str, database: str, sizes: list[int], rounds: int) -> list[Figure]:
    """``finishing_at`` each size; the cost per finish compared with the smallest size's."""
    figures: list[Figure] = []
    smallest: float | None = None
    for size in sizes:
        print(f"... {FINISHING:,} {kind} finishing at {size:,} watched ({database[:10]})", flush=True)
        round_figure, per_finish = finishing_at(size, kind, database, rounds, smallest)
        if size == sizes[-1]:
            round_figure.target, per_finish.target = "<= 10000 ms", "<= 1.5x"
        smallest = smallest if smallest is not None else per_finish.bot[0]
        figures += [round_figure, per_finish]
    return figures


def run(approval_sizes: list[int], watch_sizes: list[int], rounds: int) -> list[Figure]:
    figures: list[Figure] = []
    smallest: float | None = None
    for size in approval_sizes:
        print(f"... approvals poll at {size:,} pending", flush=True)
        at_size = approvals_at(size, rounds if size <= 10_000 else min(rounds, 2), smallest)
        if size == approval_sizes[-1]:
            at_size[-1].target = "<= +25 MiB"
        smallest = smallest if smallest is not None else at_size[-1].bot[0]
        figures += at_size
    smallest = smallest_finish = None
    for size in watch_sizes:
        print(f"... process poll at {size:,} watches", flush=True)
        at_size = processes_at(size, rounds, smallest, smallest_finish)
        peak, finishing, per_finish = at_size[2], at_size[3], at_size[4]
        if size == watch_sizes[-1]:
            peak.target, per_finish.target = "<= +25 MiB", "<= 1.5x"
            finishing.target = "<= 10000 ms"
        smallest = smallest if smallest is not None else peak.bot[0]
        smallest_finish = smallest_finish if smallest_finish is not None else per_finish.bot[0]
        figures += at_size
    return figures
