"""The real ``approvals-bot`` executable refuses to start with a bad ``APPROVALS_ROUTES_FILE``."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.cli_process import EXECUTABLE, environment
from tests.routes_helpers import routes_file

BAD_ROUTES = """routes:
  - name: large-orders
    channel: C_LARGE
    required_approvals: two
"""


@pytest.mark.parametrize("command", ["serve", "check"])
def test_a_bad_routes_file_stops_the_bot_with_its_line_and_the_problem_and_exit_2(
    make_settings: Callable[..., Settings], tmp_path: Path, command: str
) -> None:
    path = routes_file(tmp_path, BAD_ROUTES)
    result = subprocess.run(
        [EXECUTABLE, command],
        env=environment(make_settings(approvals_routes_file=path)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        f"invalid routes file (APPROVALS_ROUTES_FILE): {path}, line 4: "
        "'required_approvals' must be a whole number from 1 to 10"
    ) in result.stderr
    assert "deploy/routes.example.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # stopped before any check ran


def test_a_missing_routes_file_stops_the_bot_with_exit_2(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-routes.yaml"
    result = subprocess.run(
        [EXECUTABLE, "serve"],
        env=environment(make_settings(approvals_routes_file=str(missing))),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert f"{missing}: cannot be read (No such file or directory)" in result.stderr


def test_check_passes_with_the_example_routes_file(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parent.parent / "deploy" / "routes.example.yaml"
    result = subprocess.run(
        [EXECUTABLE, "check"],
        env=environment(make_settings(approvals_routes_file=str(example))),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
