"""The generated files and blocks, and how a page's block is replaced.

A block is the text between ``<!-- BEGIN GENERATED: NAME (python -m bot.docs) -->`` and
``<!-- END GENERATED: NAME -->``; everything outside it is left as it is. A file without markers
(``.env.example``) is generated whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.docs.api_reference import ingest_api_reference
from bot.docs.metrics_reference import metrics_reference
from bot.docs.settings_reference import configuration_reference, env_example

ROOT = Path(__file__).resolve().parent.parent.parent


class MissingBlockError(ValueError):
    """A page lacks the markers of a block it should hold."""


@dataclass(frozen=True)
class Generated:
    """A file (relative to the repository), and the block in it (``None``: the whole file)."""

    path: str
    render: Callable[[], str]
    block: str | None = None

    def refreshed(self, current: str) -> str:
        """``current`` with the generated part rewritten."""
        if self.block is None:
            return self.render()
        try:
            return replace_block(current, self.block, self.render())
        except MissingBlockError as error:
            raise MissingBlockError(f"{self.path}: {error}") from None


GENERATED = (
    Generated("docs/configuration.md", configuration_reference, block="settings"),
    Generated(".env.example", env_example),
    Generated("docs/operating/metrics.md", metrics_reference, block="metrics"),
    Generated("docs/using/ingest-api.md", ingest_api_reference, block="openapi"),
)


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with the block ``name`` holding ``content``; :class:`MissingBlockError` without markers."""
    begin = rf"<!-- BEGIN GENERATED: {re.escape(name)} [^\n]*-->\n"
    end = rf"<!-- END GENERATED: {re.escape(name)} -->"
    pattern = re.compile(f"({begin})(.*?)({end})", re.DOTALL)
    if not pattern.search(text):
        raise MissingBlockError(f"no <!-- BEGIN/END GENERATED: {name} --> markers")
    return pattern.sub(
        lambda match: match.group(1) + content.rstrip("\n") + "\n" + match.group(3), text, count=1
    )


def stale(root: Path = ROOT) -> list[str]:
    """The generated files whose content differs from what the code says now."""
    return [
        item.path for item in GENERATED if _read(root / item.path) != item.refreshed(_read(root / item.path))
    ]


def write(root: Path = ROOT) -> list[str]:
    """Rewrites every stale generated file; the paths written."""
    written = []
    for item in GENERATED:
        path = root / item.path
        current = _read(path)
        fresh = item.refreshed(current)
        if fresh != current:
            path.write_text(fresh, encoding="utf-8")
            written.append(item.path)
    return written


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
