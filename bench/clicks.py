"""Approve click -> card updated (``chat.update`` arriving at Slack), one at a time and 20 at once.

The bot against the minimal decide handler (``DecideHost``); both get fresh pending approvals with
cards, and the clock runs from just before the signed click is sent to the update's arrival.
"""

from __future__ import annotations

import time

from bench.emulated import CHANNEL
from bench.load import Prepared, RequestBuilder, send_all
from bench.remote import Remote
from bench.report import Figure, percentile
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID

BURST = 20


def click(approval_id: str, ts: str) -> Prepared:
    builder = RequestBuilder()
    builder.block_action(APPROVE_ACTION_ID, approval_id, user_id="U_BENCH", channel_id=CHANNEL, message_ts=ts)
    return builder.take()


def cards_for_bot(emulators: Remote, bot: Remote, count: int) -> list[tuple[str, str]]:
    """``count`` new approvals whose cards the bot posted: (approval id, ts)."""
    ids = emulators.call("add_approvals", count)
    bot.call("poll_approvals")
    bot.call("announce")
    cards = emulators.call("cards")
    return [(i, cards[i][0]) for i in ids]


def cards_for_minimal(emulators: Remote, count: int) -> list[tuple[str, str]]:
    ids = emulators.call("add_approvals", count)
    return list(zip(ids, emulators.call("post_messages", count), strict=True))


def latencies(emulators: Remote, server: Remote, cards: list[tuple[str, str]], at_once: int) -> list[float]:
    """Clicks ``at_once`` cards at a time; ms from each click to its card's update at Slack."""
    port = server.call("port")
    result: list[float] = []
    for start in range(0, len(cards), at_once):
        group = cards[start : start + at_once]
        clicks = [click(i, ts) for i, ts in group]
        sent = time.monotonic()
        send_all(port, clicks, len(clicks))
        updated = emulators.call("wait_for_updates", [ts for _, ts in group])
        result.extend((updated[ts] - sent) * 1000 for _, ts in group)
    return result


def run(
    emulators: Remote,
    bot: Remote,
    minimal: Remote,
    rounds: int,
    sequential: int,
    *,
    label: str = "",
    baseline: str = "minimal decide",
) -> list[Figure]:
    """``label`` goes before each figure's name (``"postgresql: "`` for a bot on PostgreSQL, whose
    targets are 1.2x at p50 and 1.5x at p95 20 at once); ``baseline`` names what ``minimal`` is."""
    on_pg = label.startswith("postgresql")
    figures = {
        "p50": Figure(
            f"{label}click->update sequential p50",
            "ms",
            baseline,
            target="<= 1.2x" if on_pg else "<= 1.5x",
        ),
        "p95": Figure(f"{label}click->update sequential p95", "ms", baseline),
        "burst50": Figure(f"{label}click->update {BURST} at once p50", "ms", baseline),
        "burst95": Figure(
            f"{label}click->update {BURST} at once p95",
            "ms",
            baseline,
            target="<= 1.5x" if on_pg else "<= 2x",
        ),
    }
    warm = cards_for_minimal(emulators, 3)
    latencies(emulators, minimal, warm, 1)
    latencies(emulators, bot, cards_for_bot(emulators, bot, 3), 1)
    for _ in range(rounds):
        bot_cards = cards_for_bot(emulators, bot, sequential + BURST)
        minimal_cards = cards_for_minimal(emulators, sequential + BURST)
        bot_one = latencies(emulators, bot, bot_cards[:sequential], 1)
        minimal_one = latencies(emulators, minimal, minimal_cards[:sequential], 1)
        bot_burst = latencies(emulators, bot, bot_cards[sequential:], BURST)
        minimal_burst = latencies(emulators, minimal, minimal_cards[sequential:], BURST)
        figures["p50"].add(percentile(bot_one, 0.5), percentile(minimal_one, 0.5))
        figures["p95"].add(percentile(bot_one, 0.95), percentile(minimal_one, 0.95))
        figures["burst50"].add(percentile(bot_burst, 0.5), percentile(minimal_burst, 0.5))
        figures["burst95"].add(percentile(bot_burst, 0.95), percentile(minimal_burst, 0.95))
    return list(figures.values())
