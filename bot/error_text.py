"""An error as one line of a log or of a command's output."""

from __future__ import annotations


def one_line(error: BaseException) -> str:
    """``Type: the first line of its message``. Database drivers' messages run on for lines (the SQL,
    its parameters, a link to SQLAlchemy's docs); the first says what went wrong."""
    first_line = (str(error).splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}"
