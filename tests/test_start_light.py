"""The entry point loads what a command needs when it needs it: a bot on SQLite never loads the
PostgreSQL driver."""

from __future__ import annotations

import subprocess
import sys

LOADED_AFTER_IMPORT = (
    "import sys, bot.cli, bot.server, bot.runtime; "
    "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg')))"
)


def test_importing_the_entry_point_and_the_runtime_does_not_load_the_postgresql_driver() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_IMPORT], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()

    assert loaded == []
