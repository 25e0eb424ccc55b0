"""``serve`` loads what its settings need and no more: no Alembic on an up-to-date database, no YAML
parser without a routes or callers file, no PostgreSQL driver with a SQLite URL, no Socket Mode client
without an app token."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.storage.migrations import declared_head, head
from tests.cli_process import EXECUTABLE, environment, free_port
from tests.waiting import wait_for

HEAVY_FOR_NOTHING = ("alembic", "mako", "yaml", "psycopg", "slack_sdk.socket_mode")
"""Module names (and their submodules) serve should not load here; a prefix, so "yaml" covers "yaml.nodes"."""


def imported_modules(importtime_log: str) -> set[str]:
    """Modules named in ``-X importtime`` lines."""
    names = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    assert declared_head() == head()


def test_serve_on_an_up_to_date_sqlite_database_loads_no_alembic_yaml_or_postgresql_driver(
    make_settings: Callable[..., Settings], slack: SlackEmulator, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(port=port, notifier_enabled=True)
    env = environment(settings)
    upgrade = subprocess.run(
        [EXECUTABLE, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert upgrade.returncode == 0, upgrade.stderr
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [EXECUTABLE, "serve"],
            env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:

            def healthy() -> bool:
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(healthy, timeout=60, what="the bot to listen")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    output = log_path.read_text()
    assert process.returncode == 0, output
    loaded = imported_modules(output)
    assert {"bot.server", "sqlalchemy", "slack_bolt"} <= loaded  # the log is the import log
    needless = sorted(m for m in loaded if m.startswith(HEAVY_FOR_NOTHING))
    assert not needless, needless
