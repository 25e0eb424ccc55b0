"""``approvals-bot watch`` as a real process: ids from arguments or stdin, into the same store."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.storage.store import Store
from tests.bot_runner import RunningBot
from tests.cli_process import EXECUTABLE, environment
from tests.waiting import wait_for


def run_watch(settings: Settings, cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXECUTABLE, "watch", *args],
        env=environment(settings),
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def batch_totals(database_url: str) -> list[tuple[str | None, str, int]]:
    async def read() -> list[tuple[str | None, str, int]]:
        store = await Store.open(database_url)
        try:
            return [(v.batch.label, v.batch.channel, v.total) for v in await store.recent_batches()]
        finally:
            await store.close()

    return asyncio.run(read())


def test_watch_reads_ids_from_stdin_and_a_repeat_adds_nothing(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    ids = "\n".join(f"cli-{n}" for n in range(120)) + "\n"
    result = run_watch(settings, tmp_path, "--label", "nightly stock sync", "--channel", "C_OPS", stdin=ids)
    assert result.returncode == 0, result.stderr
    assert "120 new of 120" in result.stdout
    again = run_watch(settings, tmp_path, "--channel", "C_OPS", stdin=ids)
    assert again.returncode == 0, again.stderr
    assert "0 new of 120" in again.stdout
    assert batch_totals(settings.database_url) == [("nightly stock sync", "C_OPS", 120)]


def test_watch_takes_ids_as_arguments_with_the_default_channel(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    result = run_watch(settings, tmp_path, "a-1", "a-2", "--notify", "all")
    assert result.returncode == 0, result.stderr
    assert batch_totals(settings.database_url) == [(None, settings.process_status_channel, 2)]


def test_watch_refuses_bad_ids_plainly_and_stores_nothing(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    result = run_watch(settings, tmp_path, "good-1", "bad id?", "--channel", "nope")
    assert result.returncode == 2
    assert "id 'bad id?'" in result.stderr
    assert "channel" in result.stderr
    assert "Traceback" not in result.stderr
    empty = run_watch(settings, tmp_path, stdin="")
    assert empty.returncode == 2
    assert batch_totals(settings.database_url) == []


def test_a_batch_from_the_cli_gets_its_card_from_the_running_bot_with_the_notifier_on(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, tmp_path: Path
) -> None:
    bot = start_bot(notifier_enabled=True, approvals_poll_seconds=3600, process_status_poll_seconds=3600)
    result = run_watch(bot.settings, tmp_path, "cli-card-1", "cli-card-2", "--label", "from cron")
    assert result.returncode == 0, result.stderr
    [card] = wait_for(
        lambda: [c for c in slack.calls("chat.postMessage") if "from cron" in str(c.get("text"))],
        timeout=10,
        what="the card of the batch the CLI handed in",
    )
    assert card["channel"] == bot.settings.process_status_channel
