"""Benchmarks: each figure of the bot next to a baseline measured in the same run, as a ratio.

    .venv/bin/python bench/bench.py [--quick] [--markdown] [--only PART,...]
    (parts: ack, clicks, pg_clicks, approvals, processes, batches, processes-pg, batches-pg, backlog,
    sets, ingest, startup)

Nothing is asserted: figures are printed as best / median over rounds (``--rounds``). The bot, each
baseline server and the emulators run in processes of their own (``bench/remote.py``) so CPU time and
RSS read in a server's process are its own; the load generator runs in this process.

- ``bench/ack.py``: ``/approvals help`` acks at concurrency 1/8/32, against bare Bolt, Bolt with
  ``process_before_response=True`` and a bare aiohttp handler; CPU per command; ``/approvals list``
  real answers a second at concurrency 8/32 against concurrency 1 (busy refusals not counted);
- ``bench/clicks.py``: click -> card update, sequential and 20 at once, against a minimal decide handler
  (``pg_clicks``: the same with the bot on PostgreSQL);
- ``bench/polls.py``: approvals poll (first and steady) and process-status poll at several sizes; the
  cost per finished process (``batches``: batch processes; ``-pg``: on PostgreSQL) from 1k to 100k;
- ``bench/backlog.py``: announcement latency of approvals that arrive during a 60-card backlog;
- ``bench/sets.py``: a backlog summary's claims and a 1,000-id ingest in the store, SQLite and PostgreSQL;
- ``bench/ingest.py``: ``POST /api/v1/process-status/watches`` with 1,000 ids over HTTP at concurrency 1
  and 8, against a bare aiohttp handler doing one bulk insert, SQLite and PostgreSQL;
- ``bench/startup.py``: ``approvals-bot serve`` from process start to a healthy ``/healthz``, and its
  idle RSS, against a bare Bolt app started the same way (``bench/bare_bolt.py``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import ack, backlog, clicks, ingest, polls, sets, startup
from bench.baselines import AiohttpHost, BoltHost, DecideHost
from bench.bothost import BotHost
from bench.emulated import EmulatorHost
from bench.remote import Remote
from bench.report import Figure, render

APPROVALS = [1_000, 10_000, 50_000]
WATCHES = [1_000, 10_000, 100_000]


PARTS = (
    "ack",
    "clicks",
    "pg_clicks",
    "approvals",
    "processes",
    "batches",
    "processes-pg",
    "batches-pg",
    "backlog",
    "sets",
    "ingest",
    "startup",
)
SUMMARY_CLAIMS = [50_000]
INGEST_WATCHED = [1_000, 10_000, 60_000]


def ack_and_clicks(
    emulators: Remote, database: str, rounds: int, quick: bool, parts: set[str]
) -> list[Figure]:
    addresses = emulators.call("addresses")
    slack_api_url = addresses["slack_api_url"]
    servers = {"bot": Remote(BotHost, addresses, database)}
    figures: list[Figure] = []
    try:
        if "ack" in parts:
            servers["bolt"] = Remote(BoltHost, slack_api_url, process_before_response=False)
            servers["bolt_pbr"] = Remote(BoltHost, slack_api_url, process_before_response=True)
            servers["aiohttp"] = Remote(AiohttpHost)
            figures += ack.run(servers, rounds, 60 if quick else 300)
            figures += ack.list_goodput(servers["bot"], emulators, rounds, 60 if quick else 300)
        if "clicks" in parts:
            with Remote(DecideHost, addresses) as minimal:
                figures += clicks.run(emulators, servers["bot"], minimal, rounds, 5 if quick else 20)
    finally:
        for server in servers.values():
            server.close()
    return figures


def clicks_on_postgresql(emulators: Remote, rounds: int, quick: bool) -> list[Figure]:
    """The clicks figures with the bot on PostgreSQL (a private cluster, as ``bench/sets.py`` starts)."""
    with sets.databases() as urls:
        if "postgresql" not in urls:
            return []
        addresses = emulators.call("addresses")
        sequential = 5 if quick else 20
        with Remote(BotHost, addresses, urls["postgresql"]) as bot:
            with Remote(DecideHost, addresses) as minimal:
                figures = clicks.run(emulators, bot, minimal, rounds, sequential, label="postgresql: ")
            # The same clicks against a minimal handler that also claims each approval in the same
            # PostgreSQL: the one write several replicas need to decide a click once.
            with Remote(DecideHost, addresses, urls["postgresql"]) as claiming:
                figures += clicks.run(
                    emulators,
                    bot,
                    claiming,
                    rounds,
                    sequential,
                    label="postgresql: ",
                    baseline="decide+claim",
                )
            return figures


def _parts(only: str | None) -> set[str]:
    if only is None:
        return set(PARTS)
    parts = {part.strip() for part in only.split(",") if part.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise SystemExit(
            f"--only: unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}"
        )
    return parts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes and 2 rounds, for a smoke run")
    parser.add_argument("--rounds", type=int, help="rounds per figure (default 5, 2 with --quick)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown too")
    parser.add_argument("--only", help=f"comma-separated parts to run (default all): {','.join(PARTS)}")
    args = parser.parse_args()
    parts = _parts(args.only)
    rounds = args.rounds or (2 if args.quick else 5)
    started = time.perf_counter()
    print(
        f"commerce-approvals-bot benchmarks ({'quick' if args.quick else 'full'}, {rounds} rounds, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}); best / median over rounds",
        flush=True,
    )
    figures: list[Figure] = []
    if parts & {"ack", "clicks", "pg_clicks", "ingest"}:
        with tempfile.TemporaryDirectory() as tmp, Remote(EmulatorHost) as emulators:
            if parts & {"ack", "clicks"}:
                figures += ack_and_clicks(emulators, f"{tmp}/bench.db", rounds, args.quick, parts)
            if "pg_clicks" in parts:
                figures += clicks_on_postgresql(emulators, rounds, args.quick)
            if "ingest" in parts:
                figures += ingest.run(emulators, rounds, 8 if args.quick else 24)
        print(render(figures), flush=True)
    approval_sizes, watch_sizes = ([200, 1000], [1000, 5000]) if args.quick else (APPROVALS, WATCHES)
    figures += polls.run(
        approval_sizes if "approvals" in parts else [],
        watch_sizes if "processes" in parts else [],
        min(rounds, 3),
    )
    if "batches" in parts:
        figures += polls.finishing("batches", "sqlite", watch_sizes, min(rounds, 3))
    if parts & {"processes-pg", "batches-pg"}:
        with sets.databases() as urls:
            for part, kind in (("processes-pg", "singles"), ("batches-pg", "batches")):
                if part in parts and "postgresql" in urls:
                    figures += polls.finishing(kind, urls["postgresql"], watch_sizes, min(rounds, 3))
    if "backlog" in parts:
        figures += backlog.run(1 if args.quick else min(rounds, 3))
    if "startup" in parts:
        with Remote(EmulatorHost) as emulators:
            figures += startup.run(emulators, rounds)
    if "sets" in parts:
        claims, watched = ([5_000], [1_000, 5_000]) if args.quick else (SUMMARY_CLAIMS, INGEST_WATCHED)
        figures += sets.run(min(rounds, 3), claims, watched)
    print()
    print(render(figures))
    if args.markdown:
        print()
        print(render(figures, markdown=True))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
