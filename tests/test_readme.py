"""The README is page one: short, with links that lead somewhere (the manual's own links are checked
by ``mkdocs build --strict``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_LINES = 220
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#+\s+(.*)$", re.MULTILINE)


def _anchor(heading: str) -> str:
    """The id MkDocs (and GitHub) give a heading: lower case, punctuation dropped, spaces as dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return re.sub(r"\s+", "-", text)


def test_the_readme_is_at_most_one_screenful_of_pages() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_every_relative_link_of_the_readme_leads_to_a_file_and_heading_that_exist() -> None:
    links = [link for link in _LINK.findall(README.read_text(encoding="utf-8")) if "://" not in link]
    assert links
    broken = [link for link in links if not _leads_somewhere(link)]
    assert broken == []


def _leads_somewhere(link: str) -> bool:
    path, _, anchor = link.partition("#")
    target = ROOT / path
    if not target.exists():
        return False
    return not anchor or anchor in {_anchor(h) for h in _HEADING.findall(target.read_text(encoding="utf-8"))}
