"""The configuration reference documents every setting the bot reads."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

CONFIGURATION = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_setting_has_a_row_in_the_configuration_reference() -> None:
    rows = [line for line in CONFIGURATION.read_text().splitlines() if line.startswith("| `")]
    documented = " ".join(row.split("|")[1] for row in rows)
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in documented]
    assert missing == []
