"""The placeholders of the deploy templates are refused, and the message says which file to edit."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.sandbox.commerce import CommerceEmulator
from bot.settings import Settings
from tests.cli_process import EXECUTABLE, base_environment, environment
from tests.env_files import docker_env_file

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
PLACEHOLDER = "CHANGE-ME"


def run_check(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXECUTABLE, "check"], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def refused_names(stderr: str) -> set[str]:
    return {line.split(":")[0].strip() for line in stderr.splitlines() if "still a placeholder" in line}


def test_the_compose_template_as_copied_is_refused_naming_each_change_me(tmp_path: Path) -> None:
    values = docker_env_file((DEPLOY / "compose.env.example").read_text())
    values.pop("POSTGRES_PASSWORD")  # compose.yaml's, not the bot's
    result = run_check({**base_environment(), **values}, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert refused_names(result.stderr) == {
        name for name, value in values.items() if value == PLACEHOLDER
    } | {"APPROVALS_CHANNEL", "PROCESS_STATUS_CHANNEL", "APPROVERS", "COMMERCE_BASE_URL"}
    assert "deploy/.env" in result.stderr
    assert "Copy .env.example" not in result.stderr


def test_the_kubernetes_secret_template_as_copied_is_refused(tmp_path: Path) -> None:
    secret = yaml.safe_load((DEPLOY / "kubernetes" / "secret.example.yaml").read_text())
    values = {name: str(value) for name, value in secret["stringData"].items()}
    result = run_check({**base_environment(), **values}, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    placeholders = {name for name, value in values.items() if PLACEHOLDER in value}
    assert placeholders <= refused_names(result.stderr)
    assert "DATABASE_URL" in refused_names(result.stderr)
    assert "Secret" in result.stderr


def test_a_secret_equal_to_a_plain_setting_does_not_mask_that_setting(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    commerce.password = commerce.store_id
    settings = make_settings(commerce_logon_password=commerce.store_id)
    result = run_check(environment(settings), tmp_path)
    assert f"(store {commerce.store_id})" in result.stdout, result.stdout + result.stderr
