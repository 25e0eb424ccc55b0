"""The generated parts of the manual and ``.env.example`` match the code they come from.

When one of these fails, run ``python -m bot.docs`` and commit what it rewrote.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bot.docs.metrics_reference import registered
from bot.docs.pages import GENERATED, ROOT, stale
from bot.docs.settings_reference import undocumented
from bot.settings import Settings


def test_every_generated_page_and_the_env_example_are_current() -> None:
    assert stale() == [], "stale: run `python -m bot.docs` and commit the result"


def test_every_setting_has_a_description_for_the_docs() -> None:
    assert undocumented() == []


def test_every_required_setting_has_an_example_for_the_env_example() -> None:
    missing = [
        name.upper()
        for name, field in Settings.model_fields.items()
        if field.is_required() and not field.examples
    ]
    assert missing == []


def test_the_configuration_reference_has_a_row_per_setting_and_the_env_example_a_line() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in page, name
        assert f"\n{name.upper()}=" in env_example or f"\n# {name.upper()}=" in env_example, name


def test_the_metrics_reference_has_a_row_per_registered_metric() -> None:
    page = (ROOT / "docs" / "operating" / "metrics.md").read_text(encoding="utf-8")
    assert registered()
    for metric in registered():
        assert f"| `{metric.shown_name}` |" in page, metric.name


def _copy_generated_files(root: Path) -> None:
    for item in GENERATED:
        (root / item.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / item.path, root / item.path)


def _docs_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.docs", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_check_names_a_page_whose_generated_part_was_edited_and_a_rerun_restores_it(
    tmp_path: Path,
) -> None:
    _copy_generated_files(tmp_path)
    page = tmp_path / "docs" / "configuration.md"
    hand_written = "A line of our own, outside the generated block.\n"
    page.write_text(
        page.read_text().replace("| `PORT` | no | `3000` |", "| `PORT` | no | `8080` |") + hand_written
    )

    checked = _docs_command("--check", "--root", str(tmp_path))
    assert checked.returncode == 1
    assert checked.stderr == "docs/configuration.md: stale; run python -m bot.docs\n"

    rewritten = _docs_command("--root", str(tmp_path))
    assert rewritten.returncode == 0
    assert rewritten.stdout == "wrote docs/configuration.md\n"
    assert page.read_text() == (ROOT / "docs" / "configuration.md").read_text() + hand_written
    assert _docs_command("--check", "--root", str(tmp_path)).returncode == 0


def test_a_stale_env_example_is_named_and_a_page_without_its_markers_is_an_error(tmp_path: Path) -> None:
    _copy_generated_files(tmp_path)
    (tmp_path / ".env.example").write_text("SLACK_BOT_TOKEN=xoxb-your-bot-token\n")
    assert stale(tmp_path) == [".env.example"]

    (tmp_path / "docs" / "operating" / "metrics.md").write_text("# Metrics\n")
    checked = _docs_command("--check", "--root", str(tmp_path))
    assert checked.returncode == 2
    assert "docs/operating/metrics.md: no <!-- BEGIN/END GENERATED: metrics --> markers" in checked.stderr
