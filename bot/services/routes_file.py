"""Reads ``APPROVALS_ROUTES_FILE``: YAML rules into ``Routes``, or one error that names the line.

Invariant: a file is either read whole into valid routes or refused with ``RoutesFileError`` (file,
line, the problem in plain words); nothing half-read is ever used. The YAML reading itself is in
``bot.services.routes_yaml``, imported only when there is a file: without one, no YAML parser is
loaded at all.
"""

from __future__ import annotations

from pathlib import Path

from bot.services.routing import Routes


class RoutesFileError(Exception):
    """The routes file cannot be used; ``str()`` is the whole sentence: file, line and problem."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


def read_routes(path: Path | None, fallback_channel: str) -> Routes:
    """The routes in ``path`` with ``fallback_channel`` as the fallback; just the fallback when ``path``
    is ``None``. ``RoutesFileError`` when the file cannot be read or is not valid."""
    if path is None:
        return Routes.only(fallback_channel)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RoutesFileError(path, None, f"cannot be read ({_reason(error)})") from None
    return parse_routes(source, path, fallback_channel)


def parse_routes(source: str, path: Path, fallback_channel: str) -> Routes:
    """``source`` (the file's text) as routes; ``RoutesFileError`` naming ``path`` and the line."""
    from bot.services.routes_yaml import yaml_routes

    return yaml_routes(source, path, fallback_channel)


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or type(error).__name__
