"""End to end: the ingest API knows its callers (names, channels, scopes, caps) and throttles guessers."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from bot.callers import derived_name
from bot.sandbox.bol import BolEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from tests.bot_runner import RunningBot
from tests.cli_process import EXECUTABLE, environment, free_port
from tests.clock import ManualClock
from tests.conftest import PROCESS_CHANNEL
from tests.ingest_api import (
    API_TOKEN,
    BATCHES,
    FOLLOWS,
    OTHER,
    OTHER_API_TOKEN,
    READ_ONLY_TOKEN,
    READER,
    SYNC,
    WATCHES,
    api_client,
    callers,
    get_batch,
    post_watches,
)
from tests.replicas import Replica
from tests.store_helpers import active_batch_members
from tests.waiting import wait_for

WRONG_TOKEN = "not-a-token-of-this-bot-0123456789abcdef"


def test_a_caller_reads_and_cancels_only_its_own_batches(start_bot: Callable[..., RunningBot]) -> None:
    bot = start_bot(api_tokens=callers(SYNC, OTHER))
    mine = post_watches(bot, {"ids": ["own-1", "own-2"]}).json()["batch_id"]
    with api_client(bot, OTHER_API_TOKEN) as other:
        assert other.get(f"{BATCHES}/{mine}").status_code == 404
        assert other.delete(f"{WATCHES}/own-1").status_code == 404
    assert get_batch(bot, mine)["total"] == 2  # nothing was cancelled
    [view] = bot.call(bot.runtime.store.recent_batches())
    assert view.batch.requested_by == "api:sync"
    with api_client(bot) as owner:
        assert owner.delete(f"{WATCHES}/own-1").status_code == 204
    assert get_batch(bot, mine)["total"] == 1


def test_a_caller_posts_only_in_its_channels_and_a_bare_token_only_in_the_default(
    start_bot: Callable[..., RunningBot],
) -> None:
    bot = start_bot(api_tokens=f"{API_TOKEN},{OTHER_API_TOKEN}")  # the old form: bare tokens
    refused = post_watches(bot, {"ids": ["p1"], "channel": "C_APPROVALS"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["errors"][0]["pointer"] == "/channel"
    assert PROCESS_CHANNEL in refused.json()["detail"]
    with api_client(bot) as client:
        follow = {"entity_id": "order-1", "event_type": "CREATE_SHIPMENT", "channel": "C_APPROVALS"}
        assert client.post(FOLLOWS, json=follow).status_code == 403
    created = post_watches(bot, {"ids": ["p1"]})
    assert created.status_code == 201
    [view] = bot.call(bot.runtime.store.recent_batches())
    assert view.batch.requested_by == "api:" + derived_name(API_TOKEN)
    assert bot.call(active_batch_members(bot.runtime.store))[0].channel == PROCESS_CHANNEL


def test_a_read_scoped_caller_reads_but_never_writes(start_bot: Callable[..., RunningBot]) -> None:
    bot = start_bot(api_tokens=callers(SYNC, {**READER, "name": "sync-reader"}))
    with api_client(bot, READ_ONLY_TOKEN) as reader:
        answer = reader.post(WATCHES, json={"ids": ["r1"]})
        assert answer.status_code == 403
        assert "read" in answer.json()["detail"]
        assert (
            reader.post(FOLLOWS, json={"entity_id": "o1", "event_type": "CREATE_SHIPMENT"}).status_code == 403
        )
    assert bot.call(bot.runtime.store.recent_batches()) == []


def test_follows_are_capped_per_caller_and_in_total_and_the_answer_says_so(
    start_bot: Callable[..., RunningBot],
) -> None:
    bot = start_bot(api_tokens=callers(SYNC, OTHER), api_follows_per_caller=2, api_follows_total=3)
    with api_client(bot) as sync, api_client(bot, OTHER_API_TOKEN) as other:
        first = sync.post(FOLLOWS, json={"entity_id": "o1", "event_type": "CREATE_SHIPMENT"})
        assert first.status_code == 201
        assert (first.json()["follows"], first.json()["follows_cap"], first.json()["follows_total_cap"]) == (
            1,
            2,
            3,
        )
        assert (
            sync.post(FOLLOWS, json={"entity_id": "o2", "event_type": "CREATE_SHIPMENT"}).status_code == 201
        )
        over = sync.post(FOLLOWS, json={"entity_id": "o3", "event_type": "CREATE_SHIPMENT"})
        assert over.status_code == 409
        assert over.json()["cap"] == 2
        again = sync.post(FOLLOWS, json={"entity_id": "o1", "event_type": "CREATE_SHIPMENT"})
        assert again.status_code == 200  # a repeat at the cap is still the follow it was
        assert other.post(FOLLOWS, json={"entity_id": "o4", "event_type": "CANCEL_ORDER"}).status_code == 201
        total = other.post(FOLLOWS, json={"entity_id": "o5", "event_type": "CANCEL_ORDER"})
        assert total.status_code == 409
        assert total.json()["cap"] == 3
        assert other.delete(f"{FOLLOWS}/o1/CREATE_SHIPMENT").status_code == 404  # not its follow
    assert len(bot.call(bot.runtime.store.follows())) == 3


def test_wrong_tokens_are_counted_logged_once_and_throttled_until_the_window_ends(
    start_bot: Callable[..., RunningBot], caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    bot = start_bot(clock=clock, api_tokens=callers(SYNC))
    caplog.set_level(logging.WARNING, logger="bot.web.auth_throttle")
    answers = [post_watches(bot, {"ids": ["p1"]}, token=WRONG_TOKEN).status_code for _ in range(15)]
    assert answers == [401] * 10 + [429] * 5
    throttled = post_watches(bot, {"ids": ["p1"]})  # the right token from the same address waits too
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert throttled.headers["Content-Type"].startswith("application/problem+json")
    throttle_lines = [r for r in caplog.records if r.name == "bot.web.auth_throttle"]
    assert len(throttle_lines) == 2  # the first failure and the start of the throttle
    assert WRONG_TOKEN not in caplog.text
    metrics = httpx.get(bot.url + "/metrics", timeout=30).text
    assert 'api_auth_failures_total{outcome="unauthorized"} 10.0' in metrics
    assert 'api_auth_failures_total{outcome="throttled"} 6.0' in metrics
    assert bot.call(bot.runtime.store.recent_batches()) == []

    clock.advance(timedelta(seconds=61))
    assert post_watches(bot, {"ids": ["p1"]}).status_code == 201


def test_callers_come_from_a_yaml_file(start_bot: Callable[..., RunningBot], tmp_path: Path) -> None:
    tokens = tmp_path / "callers.yaml"
    tokens.write_text(f"- name: nightly\n  token: {API_TOKEN}\n  channels: [C_OPS]\n", encoding="utf-8")
    bot = start_bot(api_tokens_file=tokens)
    assert post_watches(bot, {"ids": ["f1"], "channel": "C_OPS"}).status_code == 201
    assert post_watches(bot, {"ids": ["f2"]}).status_code == 403  # only C_OPS is named
    [view] = bot.call(bot.runtime.store.recent_batches())
    assert view.batch.requested_by == "api:nightly"


@pytest.mark.parametrize(
    "api_tokens",
    ["x", "short-token", f'[{{"name": "a", "token": "{"y" * 31}"}}]', f"{API_TOKEN},{API_TOKEN}"],
)
def test_short_or_repeated_tokens_are_refused_at_start_with_a_clear_error(
    make_settings: Callable[..., object], api_tokens: str
) -> None:
    settings = make_settings()
    result = subprocess.run(
        [EXECUTABLE, "serve"],
        env=environment(settings, API_TOKENS=api_tokens),  # type: ignore[arg-type]
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "API_TOKENS" in result.stderr
    assert "32 characters" in result.stderr or "same token" in result.stderr
    assert "Traceback" not in result.stderr
    assert "short-token" not in result.stderr and "y" * 31 not in result.stderr


def test_serve_posts_a_callers_batch_card_in_its_channel_and_keeps_it_from_other_callers(
    make_settings: Callable[..., Settings], slack: SlackEmulator, bol: BolEmulator, tmp_path: Path
) -> None:
    settings = make_settings(
        notifier_enabled=True,
        port=free_port(),
        approvals_poll_seconds=3600,
        process_status_poll_seconds=0.5,
        api_tokens=callers(SYNC, OTHER),  # JSON in the environment, as an operator sets it
    )
    bot = Replica(settings, tmp_path / "serve")
    try:
        bot.wait_until_listening()
        sync = {"Authorization": f"Bearer {API_TOKEN}"}
        other = {"Authorization": f"Bearer {OTHER_API_TOKEN}"}
        body = {"ids": bol.add_processes(2), "label": "nightly stock", "channel": "C_OPS"}
        created = httpx.post(bot.url + WATCHES, json=body, headers=sync, timeout=30)
        assert created.status_code == 201, created.text
        batch_url = bot.url + created.headers["Location"]
        wait_for(lambda: slack.top_level_messages("C_OPS"), what="the batch card in the caller's channel")
        refused = httpx.post(bot.url + WATCHES, json=body, headers=other, timeout=30)
        assert refused.status_code == 403  # other may post in PROCESS_STATUS_CHANNEL only
        assert httpx.get(batch_url, headers=other, timeout=30).status_code == 404
        assert httpx.get(batch_url, headers=sync, timeout=30).json()["total"] == 2
        assert slack.top_level_messages(PROCESS_CHANNEL) == []
    finally:
        bot.stop()


def test_the_example_token_left_in_place_is_refused(make_settings: Callable[..., Settings]) -> None:
    example = callers({"name": "nightly-sync", "token": "CHANGE-ME-to-32-or-more-characters"})
    with pytest.raises(ValidationError, match="placeholder"):
        make_settings(api_tokens=example)
