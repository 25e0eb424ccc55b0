"""``/readyz`` tells the truth about the store, and Slack refusing the bot token shows in a metric."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Callable, Iterator
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
from bot.storage.disk import disk_problem
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
    assert answer.json() == {"database": "unavailable", "slack": "ok"}


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


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB file system (tmpfs), to fill up; needs root (as in CI and the containers)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        message = f"cannot mount a tmpfs: {mounted.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is an error)", pytrace=False)
        pytest.skip(message)
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Fills ``disk`` to the last byte with one file; returns it (delete it to free the space)."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 1):
            with contextlib.suppress(OSError):
                while os.write(descriptor, b"\0" * size):
                    pass
    finally:
        os.close(descriptor)
    return filler


def test_readiness_fails_while_the_disk_is_full_and_writes_fail(
    start_bot: Callable[..., RunningBot], small_disk: Path
) -> None:
    bot = start_bot(database_url=f"sqlite:///{small_disk / 'bot.db'}")
    assert readyz(bot).status_code == 200
    filler = _fill(small_disk)

    # A row that needs a new page fails (a small rewrite of a page the log holds may still pass).
    with pytest.raises(Exception):  # noqa: B017 - whatever the store raises, the write did not happen
        bot.call(bot.runtime.store.claim_card("A-disk-full-" + "x" * 2000, "order"))

    answer = readyz(bot)
    assert answer.status_code == 503, answer.text

    filler.unlink()
    wait_for(lambda: readyz(bot).status_code == 200, what="readiness once the disk has room again")


def test_a_read_only_file_system_is_named_as_the_problem(small_disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert disk_problem(small_disk / "bot.db") == f"the file system of {small_disk / 'bot.db'} is read-only"
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert disk_problem(small_disk / "bot.db") is None
