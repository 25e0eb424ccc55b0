"""A SQLite database the bot could not write stops ``serve`` and ``check`` at once, saying what to do.

The container runs as uid 10001; a host directory mounted on ``/data`` belongs to root. These tests
run the executable as uid 10001 against a root-owned directory (when the tests run as root) or
against a directory without write permission (otherwise), so the failure is a real one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.cli_process import EXECUTABLE, environment

CONTAINER_UID = 10001
AS_CONTAINER_USER = [
    "setpriv",
    f"--reuid={CONTAINER_UID}",
    f"--regid={CONTAINER_UID}",
    "--clear-groups",
    # Only to reach the interpreter under a private home; it grants no write access anywhere.
    "--inh-caps=+dac_read_search",
    "--ambient-caps=+dac_read_search",
]
AS_ROOT = os.geteuid() == 0


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A ``data`` directory like ``./data`` on a host, with a parent every user may enter."""
    if AS_ROOT and shutil.which("setpriv") is None:
        pytest.skip("needs setpriv to run as another user")
    parent = Path(tempfile.mkdtemp(prefix="approvals-bot-"))
    parent.chmod(0o755)
    data = parent / "data"
    data.mkdir(mode=0o755)
    yield data
    shutil.rmtree(parent)


def run_as_container_user(command: str, settings: Settings, cwd: Path) -> subprocess.CompletedProcess[str]:
    prefix = AS_CONTAINER_USER if AS_ROOT else []
    return subprocess.run(
        [*prefix, EXECUTABLE, command],
        env=environment(settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def give_to_container_user(path: Path) -> None:
    if AS_ROOT:
        os.chown(path, CONTAINER_UID, CONTAINER_UID)


def take_away_write_access(path: Path) -> None:
    """Root-owned already when the tests run as root; read-only otherwise."""
    if not AS_ROOT:
        path.chmod(path.stat().st_mode & ~0o222)


@pytest.mark.parametrize("command", ["serve", "check"])
def test_a_root_owned_data_directory_is_refused_with_the_chown_advice(
    command: str, data_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    take_away_write_access(data_dir)
    database = data_dir / "approvals-bot.db"
    result = run_as_container_user(
        command, make_settings(database_url=f"sqlite:///{database}"), data_dir.parent
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the directory {data_dir} is not writable" in result.stderr
    assert "chown 10001:10001 ./data" in result.stderr
    assert "-v approvals-data:/data" in result.stderr
    assert result.stdout == ""
    assert not database.exists()


def test_after_the_advised_chown_the_database_check_passes(
    data_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    take_away_write_access(data_dir)
    settings = make_settings(database_url=f"sqlite:///{data_dir / 'approvals-bot.db'}")
    assert run_as_container_user("check", settings, data_dir.parent).returncode == 2
    if AS_ROOT:
        give_to_container_user(data_dir)
    else:
        data_dir.chmod(0o755)
    result = run_as_container_user("check", settings, data_dir.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS database" in result.stdout


def test_an_existing_database_file_the_bot_cannot_write_is_refused(
    data_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    give_to_container_user(data_dir)
    database = data_dir / "approvals-bot.db"
    database.write_bytes(b"")
    take_away_write_access(database)
    result = run_as_container_user("check", make_settings(database_url=f"sqlite:///{database}"), data_dir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the database file {database} is not writable" in result.stderr


def test_a_database_path_below_a_regular_file_is_refused(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    (tmp_path / "data").write_text("a file where a directory was meant to be")
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'data' / 'approvals-bot.db'}")
    result = subprocess.run(
        [EXECUTABLE, "serve"],
        env=environment(settings),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{tmp_path / 'data'} is not a directory" in result.stderr
    assert "Traceback" not in result.stderr


def run_check(settings: Settings, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXECUTABLE, "check"], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_a_missing_directory_outside_the_working_directory_is_refused_not_created(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    missing = tmp_path / "typo" / "data"
    result = run_check(make_settings(database_url=f"sqlite:///{missing / 'approvals-bot.db'}"), workdir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the directory {missing} does not exist" in result.stderr
    assert not (tmp_path / "typo").exists()


def test_a_missing_directory_under_the_working_directory_is_created(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    result = run_check(make_settings(database_url="sqlite:///./data/approvals-bot.db"), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "data" / "approvals-bot.db").exists()
