"""End to end: /process-status over signed requests, and the bulk-polling notifier against bol.com."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.bol.errors import BolError
from bot.bol.models import MAX_BULK_IDS
from bot.notifier.process_status import ProcessStatusNotifier
from bot.sandbox.base import Response
from bot.sandbox.bol import BolEmulator
from bot.sandbox.slack import SlackEmulator
from bot.storage.store import Store
from tests.bol_faults import refuse_second_bulk_call
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER, PROCESS_CHANNEL, SIGNING_SECRET
from tests.ingest_api import API_CALLERS, BATCHES, WATCHES, api_client
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.store_helpers import active_watches, get_watch

WATCH_CHANNEL = "C_OPS"


def command(
    sender: SlackRequestSender, slack: SlackEmulator, text: str, channel: str = WATCH_CHANNEL
) -> dict[str, Any]:
    return run_command(sender, slack, "/process-status", text, user=APPROVER, channel=channel)


def messages_in(slack: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    return [c for c in slack.calls("chat.postMessage") if c.get("channel") == channel]


def text_of(call: dict[str, Any]) -> str:
    return json.dumps(call.get("blocks")) + str(call.get("text"))


def test_watch_then_success_posts_exactly_one_message_in_the_watch_channel(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, sender: SlackRequestSender
) -> None:
    process_id = bol.add_process(event_type="CREATE_SHIPMENT", entity_id="987654321")
    answer = command(sender, slack, f"watch {process_id}")
    assert answer["response_type"] == "ephemeral"
    assert process_id in text_of(answer)

    assert bot.poll_processes() == 0  # still pending
    assert messages_in(slack, WATCH_CHANNEL) == []

    bol.set_status(process_id, "SUCCESS")
    assert bot.poll_processes() == 1
    assert bot.poll_processes() == 0
    posted = messages_in(slack, WATCH_CHANNEL)
    assert len(posted) == 1
    assert "SUCCESS" in text_of(posted[0]) or "Success" in text_of(posted[0])
    assert "987654321" in text_of(posted[0])
    assert f"<@{APPROVER}>" in text_of(posted[0])  # who asked to be told


def test_failure_message_carries_bol_error_message(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, sender: SlackRequestSender
) -> None:
    process_id = bol.add_process(event_type="UPDATE_OFFER_PRICE", entity_id="offer-1")
    command(sender, slack, f"watch {process_id}")
    bol.set_status(process_id, "FAILURE", error_message="Price too low for offer-1")
    assert bot.poll_processes() == 1
    assert "Price too low for offer-1" in text_of(messages_in(slack, WATCH_CHANNEL)[0])


def test_purged_process_ends_the_watch_with_a_note(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, sender: SlackRequestSender
) -> None:
    process_id = bol.add_process()
    command(sender, slack, f"watch {process_id}")
    bol.purge(process_id)
    assert bot.poll_processes() == 1
    assert process_id in text_of(messages_in(slack, WATCH_CHANNEL)[0])
    assert bot.call(active_watches(bot.runtime.store)) == []
    assert bot.poll_processes() == 0


def test_many_watches_are_polled_in_bulk_calls_of_at_most_1000(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator
) -> None:
    ids = [bol.add_process() for _ in range(2 * MAX_BULK_IDS + 10)]
    for process_id in ids:
        bot.call(bot.runtime.store.add_watch(process_id, PROCESS_CHANNEL, APPROVER))
    bulk_before = len(bol.requests_to("POST", "/shared/process-status"))

    assert bot.poll_processes() == 0

    bulk = bol.requests_to("POST", "/shared/process-status")[bulk_before:]
    assert [len(r.json()["processStatusQueries"]) for r in bulk] == [1000, 1000, 10]
    bol.set_status(ids[1500], "TIMEOUT")
    assert bot.poll_processes() == 1
    assert len(messages_in(slack, PROCESS_CHANNEL)) == 1


def test_a_bulk_call_refused_mid_round_fails_the_round_and_the_next_announces_the_rest_once(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator
) -> None:
    """The round asks for the next chunk while it handles the one before: a refused call ends the round
    after what was already answered, leaves nothing in flight, and the next round does the rest."""
    ids = sorted(bol.add_processes(2 * MAX_BULK_IDS + 10))
    for process_id in ids:
        bot.call(bot.runtime.store.add_watch(process_id, PROCESS_CHANNEL, APPROVER))
    ended = [ids[10], ids[1500], ids[2005]]  # one in each chunk
    for process_id in ended:
        bol.set_status(process_id, "SUCCESS")
    refuse_second_bulk_call(bol)

    with pytest.raises(BolError):
        bot.poll_processes()
    [first] = messages_in(slack, PROCESS_CHANNEL)  # the first chunk's, answered before the refusal
    assert ended[0] in text_of(first)

    assert bot.poll_processes() == 2
    announced = [p for p in ended for m in messages_in(slack, PROCESS_CHANNEL) if p in text_of(m)]
    assert sorted(announced) == sorted(ended)


def test_an_id_watched_in_two_channels_at_a_chunk_boundary_is_asked_once_and_announced_in_both(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator
) -> None:
    ids = sorted(bol.add_processes(MAX_BULK_IDS + 1))
    for process_id in ids:
        bot.call(bot.runtime.store.add_watch(process_id, PROCESS_CHANNEL, APPROVER))
    last_of_first_chunk = ids[MAX_BULK_IDS - 1]  # the round reads processes in id order
    bot.call(bot.runtime.store.add_watch(last_of_first_chunk, WATCH_CHANNEL, APPROVER))
    bol.set_status(last_of_first_chunk, "SUCCESS")
    before = len(bol.bulk_ids())

    assert bot.poll_processes() == 2

    assert [len(asked) for asked in bol.bulk_ids()[before:]] == [MAX_BULK_IDS, 1]
    assert sum(asked.count(last_of_first_chunk) for asked in bol.bulk_ids()[before:]) == 1
    assert len(messages_in(slack, PROCESS_CHANNEL)) == len(messages_in(slack, WATCH_CHANNEL)) == 1
    watch = bot.call(get_watch(bot.runtime.store, last_of_first_chunk, WATCH_CHANNEL))
    assert watch is not None and watch.finished_at is not None


def test_unwatch_stops_notifications(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, sender: SlackRequestSender
) -> None:
    process_id = bol.add_process()
    command(sender, slack, f"watch {process_id}")
    duplicate = command(sender, slack, f"watch {process_id}")
    assert "already" in text_of(duplicate)
    command(sender, slack, f"unwatch {process_id}")
    bol.set_status(process_id, "SUCCESS")
    assert bot.poll_processes() == 0
    assert messages_in(slack, WATCH_CHANNEL) == []


def test_watch_from_a_direct_message_posts_in_the_default_channel(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, sender: SlackRequestSender
) -> None:
    process_id = bol.add_process()
    command(sender, slack, f"watch {process_id}", channel="D_DIRECT")
    bol.set_status(process_id, "SUCCESS")
    assert bot.poll_processes() == 1
    assert len(messages_in(slack, PROCESS_CHANNEL)) == 1


def test_show_one_status_and_unknown_ids(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, sender: SlackRequestSender
) -> None:
    process_id = bol.add_process(
        event_type="CANCEL_ORDER", entity_id="1234", description="Cancel order item 1234"
    )
    shown = command(sender, slack, process_id)
    assert "Cancel order item 1234" in text_of(shown)
    unknown = command(sender, slack, "does-not-exist")
    assert "no process status" in text_of(unknown)
    refused = command(sender, slack, "watch does-not-exist")
    assert "no process status" in text_of(refused)
    assert bot.call(active_watches(bot.runtime.store)) == []


def test_entity_listing_and_bad_event_type(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, sender: SlackRequestSender
) -> None:
    for _ in range(3):
        bol.add_process(event_type="CREATE_SHIPMENT", entity_id="555")
    listed = command(sender, slack, "entity 555 create_shipment")
    assert text_of(listed).count("CREATE_SHIPMENT") >= 3
    entity_calls = [r for r in bol.requests_to("GET", "/shared/process-status") if r.q("entity-id") == "555"]
    assert entity_calls[-1].q("event-type") == "CREATE_SHIPMENT"
    bad = command(sender, slack, "entity 555 SHIP_IT")
    assert "SHIP_IT" in text_of(bad)


def test_bol_down_gives_a_clear_ephemeral_error_and_the_notifier_keeps_going(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator, sender: SlackRequestSender
) -> None:
    process_id = bol.add_process()
    command(sender, slack, f"watch {process_id}")
    bol.fail_next(
        100,
        Response(
            status=503,
            body={
                "type": "https://api.bol.com/problems",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "down",
            },
        ),
    )

    answer = command(sender, slack, process_id)
    assert answer["response_type"] == "ephemeral"
    assert "bol.com" in text_of(answer)
    assert "Traceback" not in text_of(answer)

    bol.clear_faults()
    bol.set_status(process_id, "SUCCESS")
    assert bot.poll_processes() == 1


def test_two_replicas_polling_the_same_watches_announce_each_finish_once(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator
) -> None:
    runtime = bot.runtime
    process_id = bol.add_process()
    bot.call(runtime.store.add_watch(process_id, PROCESS_CHANNEL, APPROVER))
    bol.set_status(process_id, "SUCCESS")

    async def two_replicas_poll() -> list[int]:
        other_store = await Store.open(runtime.settings.database_url)  # a second replica's own pool
        try:
            other = ProcessStatusNotifier(
                runtime.bol, other_store, runtime.poster, runtime.metrics, fallback_channel=PROCESS_CHANNEL
            )
            return list(await asyncio.gather(runtime.poller("process_status").poll_once(), other.poll_once()))
        finally:
            await other_store.close()

    assert sorted(bot.call(two_replicas_poll())) == [0, 1]
    assert len(messages_in(slack, PROCESS_CHANNEL)) == 1


def test_an_announcement_that_cannot_be_posted_is_retried(
    bot: RunningBot, slack: SlackEmulator, bol: BolEmulator
) -> None:
    process_id = bol.add_process()
    bot.call(bot.runtime.store.add_watch(process_id, PROCESS_CHANNEL, APPROVER))
    bol.set_status(process_id, "FAILURE", error_message="nope")
    slack.fail_next(1, Response(body={"ok": False, "error": "internal_error"}))

    assert bot.poll_processes() == 0
    assert messages_in(slack, PROCESS_CHANNEL) == []
    assert bot.poll_processes() == 1
    assert bot.poll_processes() == 0
    assert len(messages_in(slack, PROCESS_CHANNEL)) == 1


def test_a_single_watch_is_a_batch_of_one_listed_but_not_an_api_callers_to_read(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_CALLERS)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    process_id = bol.add_process(event_type="UPDATE_OFFER_PRICE", entity_id="offer-9")
    command(sender, slack, f"watch {process_id}")

    listed = text_of(command(sender, slack, "batches"))
    assert f"watch {process_id}" in listed
    assert "0/1 finished" in listed
    [view] = bot.call(bot.runtime.store.recent_batches())
    assert view.batch.batch_id in listed
    assert (view.total, view.batch.single_watch, view.batch.channel) == (1, True, WATCH_CHANNEL)
    assert view.batch.completed_at is None
    with api_client(bot) as caller:  # a person's watch: no API caller reads or cancels it
        assert caller.get(f"{BATCHES}/{view.batch.batch_id}").status_code == 404
        assert caller.delete(f"{WATCHES}/{process_id}").status_code == 404

    bol.set_status(process_id, "FAILURE", error_message="Price too low for offer-9")
    assert bot.poll_processes() == 1
    assert bot.poll_processes() == 0
    [posted] = messages_in(slack, WATCH_CHANNEL)
    assert "thread_ts" not in posted  # the single-watch message, not a card and its thread
    assert f"<@{APPROVER}>" in text_of(posted)
    assert slack.calls("chat.update") == []

    done = bot.call(bot.runtime.store.batch_view(view.batch.batch_id))
    assert done is not None and done.batch.completed_at is not None
    assert [(f.process_status_id, f.error_message) for f in done.failures] == [
        (process_id, "Price too low for offer-9")
    ]
    assert "1/1 finished (complete)" in text_of(command(sender, slack, "batches"))
