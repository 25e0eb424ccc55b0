"""The README documents every setting the bot reads."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_has_a_row_in_the_readme_settings_table() -> None:
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `")]
    documented = " ".join(row.split("|")[1] for row in rows)
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in documented]
    assert missing == []
