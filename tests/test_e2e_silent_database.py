"""A PostgreSQL that accepts connections and never answers: nothing hangs, users are told in plain words."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.sandbox.bol import BolEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER, PROCESS_CHANNEL, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.stalling_proxy import StallingProxy, stalling_postgres
from tests.waiting import wait_for


@pytest.fixture
def stalling(fresh_postgres_url: str) -> Iterator[tuple[StallingProxy, str]]:
    with stalling_postgres(fresh_postgres_url) as proxy_and_url:
        yield proxy_and_url


def rounds_counted(bot: RunningBot, poller: str) -> float:
    text = httpx.get(f"{bot.url}/metrics").text
    pattern = rf'^notifier_polls_total\{{(?=.*outcome="ok")(?=.*poller="{poller}").*\}} (\S+)$'
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def is_leader(bot: RunningBot) -> bool:
    text = httpx.get(f"{bot.url}/metrics").text
    found = re.search(r"^notifier_leader\{.*\} (\S+)$", text, re.M)
    return found is not None and float(found.group(1)) == 1.0


def errors_counted(bot: RunningBot, poller: str) -> float:
    text = httpx.get(f"{bot.url}/metrics").text
    pattern = rf'^notifier_polls_total\{{(?=.*outcome="error")(?=.*poller="{poller}").*\}} (\S+)$'
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_readiness_says_503_when_the_database_stops_answering(
    start_bot: Callable[..., RunningBot], stalling: tuple[StallingProxy, str]
) -> None:
    proxy, url = stalling
    bot = start_bot(database_url=url, database_timeout_seconds=1)
    assert httpx.get(f"{bot.url}/readyz", timeout=30).status_code == 200
    proxy.stall()

    for _ in range(3):  # a hung pooled connection, then fresh connections that hang at connect
        answer = httpx.get(f"{bot.url}/readyz", timeout=30)
        assert answer.status_code == 503
        assert answer.json() == {"database": "unavailable", "slack": "ok"}


def test_a_command_gets_a_plain_error_when_the_database_stops_answering(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    bol: BolEmulator,
    stalling: tuple[StallingProxy, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    process_id = bol.add_process()
    proxy, url = stalling
    bot = start_bot(database_url=url, database_timeout_seconds=1)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    proxy.stall()

    response_url = slack.new_response_url()
    with caplog.at_level(logging.INFO):
        ack = sender.slash_command(
            "/process-status",
            f"watch {process_id}",
            user_id=APPROVER,
            channel_id=PROCESS_CHANNEL,
            response_url=response_url,
        )
        assert ack.status_code == 200
        answer = wait_for(lambda: slack.responses(response_url), timeout=30, what="the answer")[0]

    assert "database did not answer" in json.dumps(answer)
    assert [r for r in caplog.records if r.exc_info] == []


def test_the_poller_role_lets_go_when_the_database_stops_answering_and_polls_again_after(
    start_bot: Callable[..., RunningBot], stalling: tuple[StallingProxy, str]
) -> None:
    """The notifier must not hang on a silent PostgreSQL: the replica gives up the poller role (no
    one can prove it holds the lock) instead of waiting forever, and polls again when it answers."""
    proxy, url = stalling
    bot = start_bot(
        database_url=url,
        database_timeout_seconds=1,
        notifier_enabled=True,
        approvals_poll_seconds=0.2,
        process_status_poll_seconds=0.2,
    )
    wait_for(lambda: rounds_counted(bot, "process_status") >= 1, timeout=30, what="a first round")
    proxy.stall()

    wait_for(lambda: is_leader(bot) is False, timeout=60, what="the poller role given up")
    proxy.resume()
    before = rounds_counted(bot, "process_status")
    wait_for(lambda: rounds_counted(bot, "process_status") > before, timeout=60, what="rounds again")
