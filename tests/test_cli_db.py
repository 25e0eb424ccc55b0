"""``approvals-bot db upgrade|current|history|backup`` as real processes, against the running bot."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import sqlite3
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from bot.commerce.models import ApprovalKind
from bot.db_commands import database_refusal
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from bot.storage.migrations import head, history
from tests.bot_runner import RunningBot
from tests.cli_process import EXECUTABLE, environment
from tests.conftest import APPROVER, SIGNING_SECRET
from tests.pg import fresh_postgres_url, postgres_url  # noqa: F401
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import all_text, blocks_of, click, posted_cards
from tests.waiting import wait_for

DECISIONS = 12


def run(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXECUTABLE, *args], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def decided(bot: RunningBot) -> set[str]:
    """The approvals whose decision is recorded (an ``ok`` audit row, written with the claim's DONE)."""
    entries = bot.call(bot.runtime.store.audit_report())
    return {e.approval_id for e in entries if e.outcome == "ok" and e.approval_id}


def test_a_backup_taken_during_decisions_restores_to_a_database_the_bot_starts_on(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
) -> None:
    approvals = [commerce.add_approval(ApprovalKind.ORDER) for _ in range(DECISIONS)]
    bot = start_bot(notifier_enabled=True)
    wait_for(lambda: len(posted_cards(slack)) == DECISIONS, what="the notifier's cards")
    cards = {
        approval_id: slack.message_ts(card)
        for card in posted_cards(slack)
        for approval_id in approvals
        if approval_id in all_text(blocks_of(card))
    }
    assert set(cards) == set(approvals)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    half = threading.Event()

    def decide_one_by_one() -> None:
        for number, approval_id in enumerate(approvals):
            click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, cards[approval_id])
            wait_for(lambda a=approval_id: a in decided(bot), what=f"{approval_id} recorded")  # type: ignore[misc]
            if number == DECISIONS // 2:
                half.set()

    stream = threading.Thread(target=decide_one_by_one)
    stream.start()
    half.wait(timeout=60)
    recorded_before = decided(bot)
    backup = tmp_path / "backup.db"
    made = run(bot.settings, tmp_path, "db", "backup", str(backup))
    stream.join(timeout=120)

    assert made.returncode == 0, made.stderr
    assert "To restore: stop the bot" in made.stdout
    assert decided(bot) == set(approvals)  # the stream went on while the copy was made
    bot.stop()
    restored = start_bot(database_url=f"sqlite:///{backup}", notifier_enabled=True)
    assert restored.call(restored.runtime.store.ping())
    in_backup = decided(restored)
    assert recorded_before <= in_backup <= set(approvals)
    for approval_id in in_backup:
        card = restored.call(restored.runtime.store.get_card(approval_id))
        assert card is not None and card.state.value == "approved"
    refused = run(bot.settings, tmp_path, "db", "backup", str(backup))
    assert refused.returncode == 1 and "exists already" in refused.stderr


def test_backup_names_the_pg_dump_line_for_postgresql(
    make_settings: Callable[..., Settings], fresh_postgres_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url=fresh_postgres_url.replace("postgres@", "postgres:s3cret@"))

    told = run(settings, tmp_path, "db", "backup", str(tmp_path / "approvals.dump"))

    assert told.returncode == 1
    assert f"pg_dump --format=custom --file={tmp_path / 'approvals.dump'}" in told.stderr
    assert "pg_restore" in told.stderr and "s3cret" not in told.stderr
    assert not (tmp_path / "approvals.dump").exists()


def test_current_and_history_say_where_a_database_stands(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()

    assert "no schema yet" in run(settings, tmp_path, "db", "current").stdout
    assert run(settings, tmp_path, "db", "upgrade").returncode == 0
    assert f"revision {head()} (the newest)" in run(settings, tmp_path, "db", "current").stdout
    lines = run(settings, tmp_path, "db", "history").stdout.splitlines()
    assert [line.split()[1] if line.startswith(">") else line.split()[0] for line in lines] == [
        r.revision for r in history()
    ]
    assert lines[0].startswith(f"> {head()} (newest)")


def test_a_database_a_newer_bot_migrated_is_refused_in_plain_words(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    assert run(settings, tmp_path, "db", "upgrade").returncode == 0
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")

    refused = run(settings, tmp_path, "db", "upgrade")

    assert refused.returncode == 1
    assert "revision 9999, which this bot does not know" in refused.stderr
    assert "upgrade the bot" in refused.stderr and "Traceback" not in refused.stderr
    assert "which this bot does not know" in run(settings, tmp_path, "db", "current").stdout


def test_an_unreachable_database_is_one_plain_line(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(database_url="postgresql://bot:s3cret@127.0.0.1:1/approvals")

    for command in ("current", "upgrade", "history"):
        told = run(settings, tmp_path, "db", command)
        assert told.returncode == 1, command
        assert f"approvals-bot db {command}: cannot use the database" in told.stderr
        assert "Traceback" not in told.stderr and "s3cret" not in told.stderr


def test_every_command_that_opens_the_database_says_in_one_line_that_it_cannot(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(database_url="postgresql://bot:s3cret@127.0.0.1:1/approvals")

    for command in (["audit"], ["approvers", "list"], ["watch", "1234"]):
        told = run(settings, tmp_path, *command)
        name = " ".join(command[:2] if command[0] == "approvers" else command[:1])
        assert told.returncode == 1, (command, told.stderr)
        assert told.stderr.startswith(
            f"approvals-bot {name}: cannot use the database postgresql://bot:***@127.0.0.1:1/approvals: "
        ), told.stderr
        assert len(told.stderr.splitlines()) == 1, told.stderr
        assert "Traceback" not in told.stderr and "s3cret" not in told.stderr


def test_a_sqlite_file_another_process_keeps_locked_is_said_to_be_busy(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        waiter.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        locked = error
    finally:
        holder.close()
        waiter.close()

    line = database_refusal("audit", f"sqlite:///{path}", locked)

    assert line == (
        f"approvals-bot audit: cannot use the database sqlite:///{path}: it is busy: another process "
        "held its write lock for 30 s (SQLite lets one process write at a time); try again"
    )
