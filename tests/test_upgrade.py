"""A database the release before Alembic made (77cc4db) upgrades with every row intact, and the bot
serves it: its pending card is decided by a signed click, its audit rows are printed."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from bot.storage.migrations import head
from bot.storage.store import Store
from tests.bot_runner import RunningBot
from tests.cli_process import EXECUTABLE, environment
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.pg import fresh_postgres_url, postgres_url  # noqa: F401
from tests.slack_requests import SlackRequestSender
from tests.store_helpers import audit_entries
from tests.test_e2e_approvals import card_updates, click, decision_posts
from tests.upgrade_fixtures import (
    PENDING_APPROVAL,
    PENDING_CARD_TS,
    ROWS_IN_FIXTURE,
    assert_every_row_kept,
    every_row,
    restore_postgres,
    restore_sqlite,
)
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
GONE = {"schema_version", "process_watches"}


@pytest.fixture(params=["sqlite", "postgresql"])
def release_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh copy of the database release 77cc4db made, on each backend."""
    if request.param == "sqlite":
        return restore_sqlite(tmp_path)
    return restore_postgres(str(request.getfixturevalue("fresh_postgres_url")))


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXECUTABLE, *args], env=environment(settings), cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_release_database_upgrades_with_every_row_intact(
    release_database: str, make_settings: Callable[..., Settings]
) -> None:
    before = every_row(release_database)
    assert {name: len(rows) for name, rows in before.items() if name not in GONE} == ROWS_IN_FIXTURE
    assert before["process_watches"] == []
    assert max(row["version"] for row in before["schema_version"]) == 11
    settings = make_settings(database_url=release_database)
    assert "schema version 11 of the release before Alembic" in run(settings, "db", "current").stdout

    upgraded = run(settings, "db", "upgrade")

    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from schema version 11 (before Alembic) to revision {head()}" in upgraded.stdout
    after = every_row(release_database)
    assert after.pop("alembic_version") == [{"version_num": head()}]
    assert_every_row_kept(before, after)
    assert f"revision {head()} (the newest)" in run(settings, "db", "current").stdout
    again = run(settings, "db", "upgrade")
    assert again.returncode == 0 and "already at revision" in again.stdout


def test_replicas_starting_together_carry_the_release_database_over_once(release_database: str) -> None:
    before = every_row(release_database)
    opening = (
        "import asyncio, sys\nfrom bot.storage.store import Store\n"
        "async def main():\n    store = await Store.open(sys.argv[1])\n"
        "    ok = await store.ping()\n    await store.close()\n    sys.exit(0 if ok else 3)\n"
        "asyncio.run(main())\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", opening, release_database],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    after = every_row(release_database)
    assert after.pop("alembic_version") == [{"version_num": head()}]
    assert_every_row_kept(before, after)


def test_the_bot_serves_the_upgraded_release_database(
    release_database: str,
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
) -> None:
    # The pending card the release posted: in Commerce still pending, in Slack still there.
    assert commerce.add_approval(ApprovalKind.ORDER) == PENDING_APPROVAL
    card = StoredMessage(APPROVALS_CHANNEL, PENDING_CARD_TS, "order approval", [], slack.bot_user_id)
    slack.messages[(APPROVALS_CHANNEL, PENDING_CARD_TS)] = card
    bot = start_bot(database_url=release_database, notifier_enabled=True)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)

    url = click(sender, slack, APPROVE_ACTION_ID, PENDING_APPROVAL, APPROVER, PENDING_CARD_TS)

    wait_for(lambda: decision_posts(commerce, PENDING_APPROVAL), what="the decision sent to Commerce")
    wait_for(lambda: card_updates(slack, PENDING_CARD_TS), what="the release's card rewritten")
    assert commerce.approval(PENDING_APPROVAL)["status"] == "1"
    assert not [r for r in slack.responses(url) if "went wrong" in json.dumps(r)]
    store = bot.runtime.store
    wait_for(
        lambda: [e for e in bot.call(audit_entries(store, PENDING_APPROVAL)) if e.outcome == "ok"],
        what="the decision's audit row",
    )
    bot.stop()

    printed = run(bot.settings, "audit", "--format", "json")
    assert printed.returncode == 0, printed.stderr
    rows = {(row["approval_id"], row["action"], row["outcome"]) for row in json.loads(printed.stdout)}
    assert ("DECIDED-1", "approve", "ok") in rows  # written by the release
    assert ("DECIDED-2", "reject", "ok") in rows
    assert (PENDING_APPROVAL, "approve", "ok") in rows  # decided after the upgrade
    decided = next(r for r in json.loads(printed.stdout) if r["approval_id"] == "DECIDED-1")
    assert (decided["slack_user_name"], decided["acted_as"]) == ("Alice Approver", "alice@example.com")


def test_a_database_at_an_older_numbering_is_refused_in_plain_words(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    url = restore_sqlite(tmp_path)
    with sqlite3.connect(tmp_path / "release.db") as conn:
        conn.execute("DELETE FROM schema_version WHERE version > 9")
    refused = run(make_settings(database_url=url), "db", "upgrade")
    assert refused.returncode == 1
    assert "version 9 of the old numbering" in refused.stderr and "Traceback" not in refused.stderr

    async def opening() -> None:
        await Store.open(url)

    with pytest.raises(RuntimeError, match="start the release before Alembic"):
        asyncio.run(opening())
