"""A copied, unedited ``.env.example`` is refused: one line per placeholder, exit code 2."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_errors
from tests.cli_process import EXECUTABLE, base_environment
from tests.env_files import ENV_EXAMPLE, docker_env_file

# Values in .env.example that are plausible as they stand (the demo store id, a user name).
PLAUSIBLE_AS_IS = {"COMMERCE_STORE_ID", "COMMERCE_LOGON_ID"}


@pytest.mark.parametrize("command", ["serve", "check"])
def test_copied_env_example_is_refused_with_a_line_per_placeholder(command: str, tmp_path: Path) -> None:
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    result = subprocess.run(
        [EXECUTABLE, command],
        env=base_environment(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    refused = {line.split(":")[0].strip() for line in lines if "still a placeholder" in line}
    assert refused == set(docker_env_file(ENV_EXAMPLE.read_text())) - PLAUSIBLE_AS_IS
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_an_uncommented_example_app_token_and_one_example_approver_are_refused(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_APP_TOKEN=xapp-your-app-token\nAPPROVERS=U_REAL,U0123456789\n")
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=env_file)
    lines = describe_errors(refused.value)
    placeholder = "still a placeholder of the example files; replace it with your own value"
    assert f"SLACK_APP_TOKEN: {placeholder}" in lines
    assert f"APPROVERS: {placeholder}" in lines
