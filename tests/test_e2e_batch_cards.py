"""End to end: a batch handed in over the API becomes one live card, updated once per poll round,
with its failures threaded and a final summary; a restart in the middle posts nothing twice."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from bot.bol.errors import BolError
from bot.bol.models import MAX_BULK_IDS
from bot.sandbox.base import Response
from bot.sandbox.bol import BolEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bol_faults import refuse_second_bulk_call
from tests.bot_runner import RunningBot
from tests.conftest import PROCESS_CHANNEL
from tests.ingest_api import API_CALLERS, get_batch, post_watches
from tests.store_helpers import age_batch
from tests.waiting import wait_for

CHANNEL = "C_OPS"
ONCALL = "S_ONCALL"


def cards(slack: SlackEmulator, channel: str = CHANNEL) -> list[dict[str, Any]]:
    return [
        c for c in slack.calls("chat.postMessage") if c.get("channel") == channel and not c.get("thread_ts")
    ]


def replies(slack: SlackEmulator, thread_ts: str) -> list[dict[str, Any]]:
    return [c for c in slack.calls("chat.postMessage") if c.get("thread_ts") == thread_ts]


def updates(slack: SlackEmulator, ts: str) -> list[dict[str, Any]]:
    return [c for c in slack.calls("chat.update") if c.get("ts") == ts]


def shown(call: dict[str, Any]) -> str:
    return json.dumps(call.get("blocks"), ensure_ascii=False) + str(call.get("text"))


def test_a_500_process_batch_is_one_card_updated_per_round_with_failures_threaded(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, database_url: str
) -> None:
    settings = {"api_tokens": API_CALLERS, "database_url": database_url, "process_failure_mention": ONCALL}
    bot = start_bot(**settings)
    ids = bol.add_processes(500)
    batch_id = post_watches(bot, {"ids": ids, "label": "offer upload 2026-11-23", "channel": CHANNEL}).json()[
        "batch_id"
    ]

    assert bot.poll_processes() == 1  # the card, nothing else
    [card] = cards(slack)
    assert "offer upload 2026-11-23 \u2013 0/500 finished" in shown(card)
    ts = slack.message_ts(card)

    bulk_before = len(bol.bulk_requests())
    bol.finish(ids[:200], "SUCCESS")
    bol.finish(ids[200:203], "FAILURE", error_message="Price must be at least 1.00")
    assert bot.poll_processes() == 3  # one thread reply per failure
    assert len(bol.bulk_requests()) - bulk_before == 1
    assert len(updates(slack, ts)) == 1  # 203 processes finished, one chat.update
    assert "203/500 finished" in shown(updates(slack, ts)[-1])
    assert "Price must be at least 1.00" in shown(updates(slack, ts)[-1])
    assert "offer-200" in shown(updates(slack, ts)[-1])

    assert bot.poll_processes() == 0  # nothing changed: no Slack call at all
    assert len(updates(slack, ts)) == 1

    bot.stop()  # a restart in the middle
    bot = start_bot(**settings)

    bol.finish(ids[203:495], "SUCCESS")
    bol.finish(ids[495:498], "TIMEOUT")
    for process_id in ids[498:]:
        bol.purge(process_id)
    assert bot.poll_processes() == 3 + 1  # three timeouts, then the summary
    assert bot.poll_processes() == 0
    assert len(cards(slack)) == 1
    assert len(updates(slack, ts)) == 2
    final = shown(updates(slack, ts)[-1])
    assert "500/500 finished" in final
    assert "Complete in" in final
    assert f"<!subteam^{ONCALL}>" in final

    threaded = replies(slack, ts)
    assert len(threaded) == 3 + 3 + 1
    for process_id in ids[200:203] + ids[495:498]:
        assert sum(process_id in shown(reply) for reply in threaded) == 1
    assert "Price must be at least 1.00" in shown(threaded[0])
    assert f"<!subteam^{ONCALL}>" in shown(threaded[-1])

    batch = get_batch(bot, batch_id)
    assert batch["counts"] == {"PENDING": 0, "SUCCESS": 492, "FAILURE": 3, "TIMEOUT": 3, "PURGED": 2}
    assert batch["completed_at"] is not None
    assert [f["process_status_id"] for f in batch["failures"]] == sorted(ids[200:203]) + sorted(ids[495:498])


def _finishing_statements(bot: RunningBot) -> list[str]:
    """The statements that record batch processes as finished, as the bot's engine sends them from
    here on (an ``executemany`` is one)."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE BATCH_PROCESSES SET STATE"):
            sent.append(statement)

    event.listen(bot.runtime.store.engine.sync_engine, "before_cursor_execute", record)
    return sent


def test_processes_of_several_batches_ending_across_chunks_are_recorded_together(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, database_url: str
) -> None:
    """1,000 ending among 100,000 watched are a few in each of a hundred chunks: recorded chunk by
    chunk and batch by batch, their cost grew with what is watched. A round records them together."""
    bot = start_bot(api_tokens=API_CALLERS, database_url=database_url)
    first, second = bol.add_processes(MAX_BULK_IDS), bol.add_processes(MAX_BULK_IDS, entity_prefix="price")
    batches = [
        post_watches(bot, {"ids": ids, "label": label, "channel": CHANNEL}).json()["batch_id"]
        for label, ids in (("offers", first), ("prices", second))
    ]
    assert bot.poll_processes() == 2  # the two cards
    ended = sorted(first)[:2] + sorted(first)[-2:] + sorted(second)[:2] + sorted(second)[-2:]
    first_chunk = sorted(first + second)[:MAX_BULK_IDS]  # the round reads processes in id order
    assert {p in first_chunk for p in ended} == {True, False}  # of both batches, in both chunks
    bol.finish(ended, "FAILURE", error_message="Unknown EAN")
    finishing = _finishing_statements(bot)

    assert bot.poll_processes() == len(ended)  # a thread reply for each failure
    assert len(finishing) == 1
    assert [get_batch(bot, b)["counts"]["FAILURE"] for b in batches] == [4, 4]


def test_batch_processes_that_ended_before_a_refused_bulk_call_are_recorded(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_CALLERS)
    ids = bol.add_processes(MAX_BULK_IDS) + bol.add_processes(MAX_BULK_IDS, entity_prefix="price")
    batches = [
        post_watches(
            bot, {"ids": ids[start : start + MAX_BULK_IDS], "label": "upload", "channel": CHANNEL}
        ).json()["batch_id"]
        for start in (0, MAX_BULK_IDS)
    ]
    assert bot.poll_processes() == 2
    in_order = sorted(ids)
    bol.finish([in_order[0], in_order[-1]], "SUCCESS")  # one in each chunk
    refuse_second_bulk_call(bol)
    with pytest.raises(BolError):
        bot.poll_processes()
    assert sum(get_batch(bot, b)["counts"]["SUCCESS"] for b in batches) == 1  # the first chunk's

    bot.poll_processes()
    assert sum(get_batch(bot, b)["counts"]["SUCCESS"] for b in batches) == 2


def test_notify_all_threads_every_finished_process(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_CALLERS)
    ids = bol.add_processes(3)
    post_watches(bot, {"ids": ids, "channel": CHANNEL, "notify": "all"})
    bol.finish(ids, "SUCCESS")
    assert bot.poll_processes() == 1 + 3  # card (already final), three replies, no summary without failures
    [card] = cards(slack)
    assert "3/3 finished" in shown(card)
    assert updates(slack, slack.message_ts(card)) == []  # the card was posted as it is
    assert len(replies(slack, slack.message_ts(card))) == 3


def test_a_card_that_cannot_be_posted_is_posted_once_later(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_CALLERS)
    ids = bol.add_processes(2)
    post_watches(bot, {"ids": ids, "channel": CHANNEL})
    slack.fail_next(1, Response(body={"ok": False, "error": "internal_error"}))
    assert bot.poll_processes() == 0
    assert cards(slack) == []
    assert bot.poll_processes() == 1
    assert bot.poll_processes() == 0
    assert len(cards(slack)) == 1


def test_processes_pending_too_long_are_marked_stuck_once(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_CALLERS, process_stuck_after=timedelta(hours=3))
    ids = bol.add_processes(4)
    batch_id = post_watches(bot, {"ids": ids, "channel": CHANNEL}).json()["batch_id"]
    assert bot.poll_processes() == 1
    ts = slack.message_ts(cards(slack)[0])
    bol.finish(ids[:1], "SUCCESS")
    bot.call(age_batch(bot.runtime.store, batch_id, timedelta(hours=3, minutes=1)))
    bot.poll_processes()
    assert "3 stuck" in shown(updates(slack, ts)[-1])
    count = len(updates(slack, ts))
    bot.poll_processes()
    assert len(updates(slack, ts)) == count  # marked once, not every round
    assert get_batch(bot, batch_id)["stuck"] == 3


def test_single_watches_and_batches_share_the_bulk_calls(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_CALLERS)
    batch_ids = bol.add_processes(1500)
    post_watches(bot, {"ids": batch_ids[:1000], "channel": CHANNEL})
    post_watches(bot, {"ids": batch_ids[1000:], "channel": "C_OTHER"})
    singles = bol.add_processes(400, entity_prefix="single")
    for process_id in singles:
        bot.call(bot.runtime.store.add_watch(process_id, CHANNEL, "U1"))
    bot.call(bot.runtime.store.add_watch(batch_ids[0], "C_THIRD", "U1"))  # the same id twice: asked once
    before = len(bol.bulk_requests())
    bot.poll_processes()
    assert sorted(len(ids) for ids in bol.bulk_ids()[before:]) == [900, 1000]


def test_batches_lists_recent_batches_with_their_counts(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    from tests.conftest import APPROVER, SIGNING_SECRET
    from tests.slack_dialog import run_command
    from tests.slack_requests import SlackRequestSender

    bot = start_bot(api_tokens=API_CALLERS)
    ids = bol.add_processes(3)
    post_watches(bot, {"ids": ids, "label": "shipment sync", "channel": CHANNEL})
    bol.finish(ids[:1], "FAILURE")
    bot.poll_processes()
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    answer = run_command(sender, slack, "/process-status", "batches", user=APPROVER, channel=CHANNEL)
    assert "shipment sync" in shown(answer)
    assert "1/3 finished" in shown(answer)


def test_a_new_batch_gets_its_card_from_the_card_poller_without_a_process_status_round(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_CALLERS)
    ids = bol.add_processes(3)
    post_watches(bot, {"ids": ids, "label": "stock sync", "channel": CHANNEL})
    card_poller = bot.runtime.poller("batch_cards")

    assert bot.call(card_poller.poll_once()) == 1
    [card] = cards(slack)
    assert "stock sync \u2013 0/3 finished" in shown(card)
    assert bol.bulk_requests() == []  # nothing asked of bol.com to post it
    assert bot.call(card_poller.poll_once()) == 0
    assert bot.poll_processes() == 0  # the round finds the card posted
    assert len(cards(slack)) == 1


def test_with_the_notifier_running_a_card_comes_within_seconds_not_at_the_next_round(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(
        api_tokens=API_CALLERS,
        notifier_enabled=True,
        approvals_poll_seconds=3600,
        process_status_poll_seconds=3600,
    )
    first_round = re.compile(r'notifier_polls_total\{outcome="ok",poller="process_status"\} 1\.0')
    wait_for(lambda: first_round.search(httpx.get(bot.url + "/metrics").text), what="the first round")
    post_watches(bot, {"ids": bol.add_processes(2), "channel": CHANNEL})
    wait_for(lambda: cards(slack), timeout=10, what="the batch card")
    assert first_round.search(httpx.get(bot.url + "/metrics").text)  # the next round is an hour away


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
def test_a_card_the_bot_cannot_post_in_its_channel_goes_to_the_default_channel_with_its_thread(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, error: str
) -> None:
    bot = start_bot(api_tokens=API_CALLERS)
    ids = bol.add_processes(2)
    batch_id = post_watches(bot, {"ids": ids, "channel": "C_GONE"}).json()["batch_id"]
    slack.missing_channels.discard("C_GONE")
    answer = Response(body={"ok": False, "error": error})
    slack.fail_next(1, answer, when=lambda r: r.path.endswith("chat.postMessage") and b"C_GONE" in r.body)

    assert bot.poll_processes() == 1
    [card] = cards(slack, PROCESS_CHANNEL)
    ts = slack.message_ts(card)
    assert get_batch(bot, batch_id)["channel"] == PROCESS_CHANNEL  # the batch follows its card

    bol.finish(ids[:1], "FAILURE", error_message="EAN unknown")
    assert bot.poll_processes() == 1  # the failure's reply, in the card's thread
    [reply] = replies(slack, ts)
    assert reply["channel"] == PROCESS_CHANNEL
    assert [u["channel"] for u in updates(slack, ts)] == [PROCESS_CHANNEL]
    assert cards(slack, "C_GONE") == []


def test_a_card_that_fails_for_another_reason_is_not_moved_and_is_tried_again(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_CALLERS)
    batch_id = post_watches(bot, {"ids": bol.add_processes(1), "channel": CHANNEL}).json()["batch_id"]
    slack.fail_next(1, Response(body={"ok": False, "error": "msg_too_long"}))
    assert bot.call(bot.runtime.poller("batch_cards").poll_once()) == 0
    assert cards(slack, PROCESS_CHANNEL) == []
    assert bot.call(bot.runtime.poller("batch_cards").poll_once()) == 1
    assert len(cards(slack)) == 1
    assert get_batch(bot, batch_id)["channel"] == CHANNEL
