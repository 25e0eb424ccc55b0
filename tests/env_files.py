"""Reading ``.env`` files the way ``docker run --env-file`` does, and ``.env.example`` itself."""

from __future__ import annotations

import re
from pathlib import Path

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
COMMENTED_ASSIGNMENT = re.compile(r"#\s?([A-Z][A-Z0-9_]*=.*)")


def docker_env_file(text: str) -> dict[str, str]:
    """``NAME=value`` pairs as ``docker --env-file`` reads them.

    Blank lines and lines starting with ``#`` are skipped; everything after the first ``=`` is the
    value, byte for byte: no quotes removed, no inline comment stripped, no trailing space trimmed.
    """
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or re.search(r"\s", name):
            raise ValueError(f"not a NAME=value line: {raw!r}")
        values[name] = value
    return values


def uncommented_examples(text: str) -> list[str]:
    """The ``# NAME=value`` lines with their ``#`` taken off, as an operator would uncomment them."""
    return [match.group(1) for line in text.splitlines() if (match := COMMENTED_ASSIGNMENT.fullmatch(line))]
