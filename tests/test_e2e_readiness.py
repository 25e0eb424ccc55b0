"""``/readyz`` tells the truth about the store, and Slack refusing the bot token shows in a metric."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.commerce.models import ApprovalKind
from bot.notifier.failures import NotifierRoundIncomplete
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bot_runner import RunningBot
from tests.waiting import wait_for


def readyz(bot: RunningBot) -> httpx.Response:
    return httpx.get(f"{bot.url}/readyz", timeout=30)


def metric(bot: RunningBot, name: str, labels: str) -> float:
    found = re.search(rf"^{name}\{{{labels}\}} (\S+)$", httpx.get(f"{bot.url}/metrics").text, re.M)
    return float(found.group(1)) if found else 0.0


def test_readiness_fails_once_the_sqlite_file_is_deleted(
    start_bot: Callable[..., RunningBot], tmp_path: Path
) -> None:
    database = tmp_path / "ready.db"
    bot = start_bot(database_url=f"sqlite:///{database}")
    assert readyz(bot).status_code == 200

    database.unlink()  # the process still writes to the unlinked file; a restart would lose it all

    answer = readyz(bot)
    assert answer.status_code == 503
    assert answer.json() == {"database": "unavailable"}


def test_readiness_fails_when_the_sqlite_file_is_replaced(
    start_bot: Callable[..., RunningBot], tmp_path: Path
) -> None:
    database = tmp_path / "ready.db"
    bot = start_bot(database_url=f"sqlite:///{database}")
    database.unlink()
    database.write_bytes(b"")  # a new, different file under the same name

    assert readyz(bot).status_code == 503


def test_readiness_fails_when_postgresql_only_reads(
    start_bot: Callable[..., RunningBot], fresh_postgres_url: str
) -> None:
    bot = start_bot(database_url=fresh_postgres_url)
    assert readyz(bot).status_code == 200
    name = make_url(fresh_postgres_url).database
    admin = make_url(fresh_postgres_url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

    async def reads() -> bool:
        try:
            async with bot.runtime.store.engine.connect() as conn:
                return (await conn.execute(text("SELECT 1"))).scalar() == 1
        except Exception:
            return False  # the first use of a terminated connection fails once

    wait_for(lambda: bot.call(reads()), what="the database to answer reads again")
    assert readyz(bot).status_code == 503
    assert readyz(bot).status_code == 503


def test_slack_refusing_the_bot_token_shows_in_a_metric(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    assert metric(bot, "slack_auth_errors_total", 'error="invalid_auth"') == 0
    slack.token = "xoxb-the-token-slack-knows-now"  # the bot's token was revoked or rotated
    commerce.add_approval(ApprovalKind.ORDER)

    with pytest.raises(NotifierRoundIncomplete):
        bot.poll_approvals()

    assert metric(bot, "slack_auth_errors_total", 'error="invalid_auth"') >= 1
    assert slack.calls("chat.postMessage") == []
