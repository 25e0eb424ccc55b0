"""Shared fixtures: emulators on loopback, settings pointing at them, and the running bot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.clock import Clock, utcnow
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from tests import replicas
from tests.bot_runner import RunningBot
from tests.pg import database_url, fresh_postgres_url, postgres_url, sqlite_url  # noqa: F401
from tests.slack_requests import SlackRequestSender

SIGNING_SECRET = "test-signing-secret-8f2a"
BOT_TOKEN = "xoxb-test-bot-token-1234"
APPROVER = "U_APPROVER"
SECOND_APPROVER = "U_APPROVER2"
OUTSIDER = "U_OUTSIDER"
GROUP_MEMBER = "U_GROUPIE"
APPROVER_GROUP = "S_APPROVERS"
APPROVALS_CHANNEL = "C_APPROVALS"
PROCESS_CHANNEL = "C_PROCESSES"


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator()
    emulator.start()
    emulator.usergroups = {APPROVER_GROUP: [GROUP_MEMBER]}
    yield emulator
    emulator.stop()


@pytest.fixture
def commerce() -> Iterator[CommerceEmulator]:
    emulator = CommerceEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def bol() -> Iterator[BolEmulator]:
    emulator = BolEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def make_settings(
    slack: SlackEmulator, commerce: CommerceEmulator, bol: BolEmulator, tmp_path: Path
) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.api_url,
            "slack_post_interval_seconds": 0,
            "commerce_base_url": commerce.base_url,
            "commerce_store_id": commerce.store_id,
            "commerce_logon_id": commerce.logon_id,
            "commerce_logon_password": commerce.password,
            "commerce_timeout_seconds": 3,
            # What a test of `check` waits for at most before a dependency counts as not answering: a
            # first `check` creates and migrates the database, and on a machine busy with CI's
            # parallel jobs that took more than the default 10 s. Tests of the limit set their own.
            "check_timeout_seconds": 45,
            "bol_client_id": bol.client_id,
            "bol_client_secret": bol.client_secret,
            "bol_api_url": bol.api_url,
            "bol_token_url": bol.token_url,
            "approvals_channel": APPROVALS_CHANNEL,
            "process_status_channel": PROCESS_CHANNEL,
            "approvers": f"{APPROVER},{SECOND_APPROVER},{APPROVER_GROUP}",
            "notifier_enabled": False,
            "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
            "port": 0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def start_bot(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., RunningBot]]:
    bots: list[RunningBot] = []

    def start(*, clock: Clock = utcnow, **overrides: object) -> RunningBot:
        bot = RunningBot(make_settings(**overrides), clock=clock)
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        if bot.loop.is_running():
            bot.stop()


@pytest.fixture
def bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    return start_bot()


@pytest.fixture
def sender(bot: RunningBot) -> SlackRequestSender:
    return SlackRequestSender(bot.url, SIGNING_SECRET)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report ends with the logs of the ``serve`` processes it started."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and report.when in ("call", "setup"):
        report.sections.extend(replicas.failure_sections())
    if report.when == "teardown":
        replicas.started.clear()
