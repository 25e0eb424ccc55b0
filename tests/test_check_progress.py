"""``approvals-bot check`` runs every check at once, prints each line as it finishes and says why."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Callable
from pathlib import Path

from bot.settings import Settings
from tests.cli_process import EXECUTABLE, environment, free_port
from tests.silent_server import silent_server


def run_check(settings: Settings, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXECUTABLE, "check"], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_finished_checks_are_printed_while_another_still_waits(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with silent_server() as hung_slack:
        settings = make_settings(slack_api_url=f"{hung_slack}/api/", check_timeout_seconds=60)
        process = subprocess.Popen(
            [EXECUTABLE, "check"],
            env=environment(settings),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(3)]
            # Slack has another minute to answer: these lines came out while the check still ran.
            assert process.poll() is None
        finally:
            process.kill()
            process.wait(timeout=30)
    assert sorted(line.split(":")[0] for line in lines) == ["PASS bol", "PASS commerce", "PASS database"]


def test_a_service_that_never_answers_fails_after_check_timeout_seconds(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with silent_server() as hung:
        settings = make_settings(
            slack_api_url=f"{hung}/api/", commerce_base_url=f"{hung}/wcs/resources", check_timeout_seconds=0.5
        )
        result = run_check(settings, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"FAIL slack: cannot reach {hung}/api/: no answer within 0.5 s" in lines
    assert f"FAIL commerce: login at {hung}/wcs/resources failed: no answer within 0.5 s" in lines
    assert "PASS bol: client credentials accepted" in lines


def test_refused_connections_and_unknown_hosts_are_named_in_plain_words(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    closed_port = free_port()
    settings = make_settings(
        commerce_base_url=f"http://127.0.0.1:{closed_port}/wcs/resources",
        bol_token_url="http://bol-token.invalid/token",
    )
    result = run_check(settings, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert (
        f"FAIL commerce: login at http://127.0.0.1:{closed_port}/wcs/resources failed: "
        f"connection refused by 127.0.0.1:{closed_port}"
    ) in lines
    assert (
        "FAIL bol: token from http://bol-token.invalid/token failed: DNS lookup of bol-token.invalid failed"
    ) in lines
    assert "PASS slack" in result.stdout


def test_on_a_terminal_a_note_names_the_checks_still_running(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [EXECUTABLE, "check"],
        env=environment(make_settings()),
        cwd=tmp_path,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
    )
    os.close(terminal)
    output = b""
    try:
        while chunk := _read(controller):
            output += chunk
    finally:
        os.close(controller)
        process.wait(timeout=60)
    text = output.decode()
    assert process.returncode == 0, text
    assert text.startswith("checking slack, commerce, bol, database, approver-links...")
    # Each line first erases the note; the last line leaves none behind.
    assert text.count("\r\x1b[KPASS ") == 4
    assert text.count("\r\x1b[KWARN ") == 1  # the test's approvers are not linked
    assert text.endswith("\r\n")


def _read(fd: int) -> bytes:
    """The next bytes from a pty; ``b""`` once the other side is closed (Linux reports EIO then)."""
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""


def test_the_checks_that_read_the_database_wait_for_it_and_name_it_when_it_fails(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    closed_port = free_port()  # nothing listens here: PostgreSQL refuses the connection
    database_url = f"postgresql://bot:secret@127.0.0.1:{closed_port}/approvals"
    settings = make_settings(database_url=database_url, decide_as="linked-user")
    result = run_check(settings, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # The database's failure is one line; the checks that read it were not run, and say why.
    assert sum(f"127.0.0.1:{closed_port}" in line for line in lines) == 1, lines
    assert "FAIL approver-links: not checked: the database did not open (see the database line)" in lines
    assert "FAIL run-as: not checked: the database did not open (see the database line)" in lines
    # The database opened first is the only one: a fresh file is migrated by one check, not three at
    # once (the losers of that race waited out SQLite's busy timeout on a busy machine and failed).
