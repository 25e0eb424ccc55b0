"""The entry point loads what a command needs when it needs it: a bot on SQLite never loads the
PostgreSQL driver, and a command that does not speak to Slack never loads Slack's libraries."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from bot.sandbox.commerce import CommerceEmulator
from bot.settings import Settings
from tests.cli_process import environment, free_port
from tests.identity_helpers import add_approver

LOADED_AFTER_IMPORT = (
    "import sys, bot.cli, bot.server, bot.runtime; "
    "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg')))"
)


def test_importing_the_entry_point_and_the_runtime_does_not_load_the_postgresql_driver() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_IMPORT], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()

    assert loaded == []


# A command run in-process, then the names of the packages it loaded that only Slack's side needs.
LOADED_BY_COMMAND = (
    "import sys\n"
    "from bot.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "except SystemExit as exit:\n"
    "    code = exit.code\n"
    "slack = {'slack_bolt', 'slack_sdk', 'aiohttp'}\n"
    "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & slack)))\n"
    "sys.exit(code)\n"
)


@pytest.mark.parametrize(
    "command",
    [
        ["--version"],
        ["db", "current"],
        ["audit"],
        ["approvers", "list"],
        ["approvers", "link", "U_APPROVER", "jane.approver"],
        ["watch", "process-1"],
    ],
    ids=" ".join,
)
def test_a_command_that_does_not_speak_to_slack_does_not_load_it(
    command: list[str], make_settings: Callable[..., Settings], commerce: CommerceEmulator
) -> None:
    settings = make_settings()
    add_approver(commerce, "Jane.Approver")  # whom `approvers link` links
    done = subprocess.run(
        [sys.executable, "-c", LOADED_BY_COMMAND, *command],
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ""


# `approvals-bot serve` as the executable runs it, and a thread in the same process that, once
# /healthz answers, prints the collector's state and stops the bot as an operator would (SIGTERM).
SERVE_AND_PROBE = (
    "import gc, os, signal, sys, threading, time, urllib.request\n"
    "from bot.cli import main\n"
    "def probe():\n"
    "    while True:\n"
    "        try:\n"
    "            urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=1)\n"
    "            break\n"
    "        except OSError:\n"
    "            time.sleep(0.05)\n"
    "    print('enabled', gc.isenabled(), 'frozen', gc.get_freeze_count(), flush=True)\n"
    "    os.kill(os.getpid(), signal.SIGTERM)\n"
    "threading.Thread(target=probe, daemon=True).start()\n"
    "sys.exit(main(['serve']))\n"
)


def test_serve_builds_with_the_collector_paused_then_freezes_what_it_built_and_collects_again(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(port=free_port(), notifier_enabled=True)
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_PROBE],
        env=environment(settings, LOG_LEVEL="WARNING"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    state = done.stdout.split()
    assert state[:2] == ["enabled", "True"], done.stdout
    assert state[2] == "frozen" and int(state[3]) > 50_000, done.stdout  # start-up's objects, at least
