"""Feature benchmarks: batch cards, the approver's day, the first end-to-end figures.

Prints figures for the bot's hot paths, run against the loopback emulators.

    .venv/bin/python bench/features.py [--quick]

Figures (no pass/fail, nothing is asserted on time):
- slash command ack latency (signed `/approvals help` round trips to the running bot);
- click-to-card latency (Approve click -> Commerce POST -> chat.update);
- notifier: first poll posting N new cards, then a steady-state poll with nothing new;
- process-status poll over N watches (bulk calls of 1000);
- the approver's day with N pending approvals: the first poll (one summary), a reminders poll with
  all N due (one message, and with the flood limit lifted, one thread reply each), App Home with
  N pending; Slack calls per poll, poll time and the process's RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datetime import timedelta

from bot.commerce.models import ApprovalKind
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from bot.storage.records import Notify
from tests.bot_runner import RunningBot
from tests.clock import ManualClock
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for

SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
APPROVER = "U_BENCH"
CHANNEL = "C_BENCH"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(name: str, samples_ms: list[float]) -> None:
    print(
        f"{name:<40} n={len(samples_ms):<6} p50={statistics.median(samples_ms):8.2f} ms"
        f"  p95={percentile(samples_ms, 0.95):8.2f} ms  max={max(samples_ms):8.2f} ms"
    )


def card_updated(slack: SlackEmulator, ts: str) -> bool:
    return any(update.get("ts") == ts for update in slack.calls("chat.update"))


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def bench_batches(bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, size: int) -> None:
    """A ``size``-id batch (handed in 1000 ids a request) whose statuses change every round."""
    ids = bol.add_processes(size)
    for start in range(0, size, 1000):
        bot.call(
            bot.runtime.store.create_batch(
                ids[start : start + 1000],
                CHANNEL,
                label=f"bench {start}",
                notify=Notify.FAILURES,
                requested_by="bench",
            )
        )
    rounds = 5
    per_round = size // rounds
    for number in range(rounds + 1):
        if number:
            wave = ids[(number - 1) * per_round : number * per_round]
            bol.finish(wave[: len(wave) - 5], "SUCCESS")
            bol.finish(wave[len(wave) - 5 :], "FAILURE", error_message="bench failure")
        slack_before, bol_before = len(slack.calls()), len(bol.bulk_requests())
        poll_ms = timed(bot.poll_processes)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{'batch round ' + str(number):<40} {size} ids: {poll_ms:8.1f} ms, "
            f"{len(slack.calls()) - slack_before} Slack calls, "
            f"{len(bol.bulk_requests()) - bol_before} bol calls, "
            f"max RSS {rss_mb:.0f} MiB"
        )


def rss_mb() -> float:
    """Peak resident set size of this process (bot, emulators and all) in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_settings(
    slack: SlackEmulator, commerce: CommerceEmulator, bol: BolEmulator, db: str, **extra: Any
) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        slack_post_interval_seconds=0,
        commerce_base_url=commerce.base_url,
        commerce_store_id=commerce.store_id,
        commerce_logon_id=commerce.logon_id,
        commerce_logon_password=commerce.password,
        bol_client_id=bol.client_id,
        bol_client_secret=bol.client_secret,
        bol_api_url=bol.api_url,
        bol_token_url=bol.token_url,
        approvals_channel=CHANNEL,
        process_status_channel=CHANNEL,
        approvers=f"{APPROVER},S_BENCH_GROUP",
        notifier_enabled=False,
        database_url=db,
        port=0,
        **extra,
    )


def slack_calls_during(slack: SlackEmulator, action: Callable[[], Any]) -> tuple[float, int]:
    """(milliseconds, Slack API calls) of ``action``."""
    before = len(slack.calls())
    elapsed = timed(action)
    return elapsed, len(slack.calls()) - before


def bench_approvers_day(pending: int) -> None:
    """N pending approvals on a first start, then all their reminders due at once."""
    slack, commerce, bol = SlackEmulator(token=BOT_TOKEN), CommerceEmulator(), BolEmulator()
    for emulator in (slack, commerce, bol):
        emulator.start()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(pending):
            commerce.add_approval(ApprovalKind.ORDER)
        runs = (("flood limit 20", 20), ("flood limit lifted", pending + 1))
        try:
            for label, limit in runs:
                clock = ManualClock()
                db = f"sqlite:///{tmp}/{limit}.db"
                bot = RunningBot(
                    bench_settings(slack, commerce, bol, db, approvals_backlog_limit=limit), clock=clock
                )
                try:
                    ms, calls = slack_calls_during(slack, bot.poll_approvals)
                    print(f"{'first poll, ' + label:<40} {pending} new in {ms:8.1f} ms, {calls} Slack calls")
                    clock.advance(timedelta(hours=4))
                    ms, calls = slack_calls_during(slack, lambda bot=bot: bot.poll("reminders"))
                    print(
                        f"{'reminders poll, ' + label:<40} {pending} due in {ms:8.1f} ms, {calls} Slack calls"
                    )
                    ms, calls = slack_calls_during(slack, lambda bot=bot: bot.poll("reminders"))
                    print(
                        f"{'reminders poll again, ' + label:<40} 0 due in {ms:8.1f} ms, {calls} Slack calls"
                    )
                finally:
                    bot.stop()
            bot = RunningBot(bench_settings(slack, commerce, bol, f"sqlite:///{tmp}/20.db"))
            sender = SlackRequestSender(bot.url, SECRET)
            try:
                samples = []
                for _ in range(10):
                    published = len(slack.calls("views.publish"))
                    start = time.perf_counter()
                    sender.app_home_opened(APPROVER)
                    wait_for(lambda p=published: len(slack.calls("views.publish")) > p, interval=0.001)
                    samples.append((time.perf_counter() - start) * 1000)
                report(f"App Home opened ({pending} pending)", samples)
            finally:
                bot.stop()
            print(f"{'peak RSS of the benchmark process':<40} {rss_mb():8.1f} MB")
        finally:
            for emulator in (slack, commerce, bol):
                emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    commands, clicks, cards, watches = (50, 10, 100, 2000) if args.quick else (300, 50, 1000, 10000)
    followups = 300 if args.quick else 2000

    slack, commerce, bol = SlackEmulator(token=BOT_TOKEN), CommerceEmulator(), BolEmulator()
    for emulator in (slack, commerce, bol):
        emulator.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(
            slack,
            commerce,
            bol,
            f"sqlite:///{tmp}/bench.db",
            approvals_backlog_limit=cards + 1,  # measure a card each, not one summary
        )
        bot = RunningBot(settings)
        sender = SlackRequestSender(bot.url, SECRET)
        try:
            print(f"commerce-approvals-bot benchmarks ({'quick' if args.quick else 'full'})")
            report(
                "slash command ack (/approvals help)",
                [
                    timed(
                        lambda: sender.slash_command(
                            "/approvals",
                            "help",
                            user_id=APPROVER,
                            channel_id=CHANNEL,
                            response_url=slack.new_response_url(),
                        )
                    )
                    for _ in range(commands)
                ],
            )

            for _ in range(cards):
                commerce.add_approval(ApprovalKind.ORDER)
            first_poll = timed(bot.poll_approvals)
            steady_poll = timed(bot.poll_approvals)
            print(
                f"{'notifier first poll':<40} {cards} new cards in {first_poll:8.1f} ms"
                f" ({cards / first_poll * 1000:7.1f} cards/s)"
            )
            print(f"{'notifier steady poll':<40} {cards} pending, 0 new in {steady_poll:8.1f} ms")

            posted = [c for c in slack.calls("chat.postMessage") if c.get("channel") == CHANNEL]
            latencies = []
            for card in posted[:clicks]:
                approval_id = next(
                    e["value"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
                )
                ts = slack.message_ts(card)
                start = time.perf_counter()
                sender.block_action(
                    APPROVE_ACTION_ID,
                    approval_id,
                    user_id=APPROVER,
                    channel_id=CHANNEL,
                    message_ts=ts,
                    response_url=slack.new_response_url(),
                )
                wait_for(partial(card_updated, slack, ts), interval=0.001, what="card update")
                latencies.append((time.perf_counter() - start) * 1000)
            report("approve click -> card updated", latencies)

            bench_batches(bot, slack, bol, watches)  # first: every id of it has finished by the end
            for _ in range(watches):
                process_id = bol.add_process()
                bot.call(bot.runtime.store.add_watch(process_id, CHANNEL, APPROVER))
            bulk_before = len(bol.requests_to("POST", "/shared/process-status"))
            poll_ms = timed(bot.poll_processes)
            bulk_calls = len(bol.requests_to("POST", "/shared/process-status")) - bulk_before
            print(f"{'process-status poll':<40} {watches} watches in {poll_ms:8.1f} ms ({bulk_calls} bulk)")
        finally:
            bot.stop()
            for emulator in (slack, commerce, bol):
                emulator.stop()
    bench_approvers_day(followups)


if __name__ == "__main__":
    main()
