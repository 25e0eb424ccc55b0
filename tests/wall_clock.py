"""A real ``approvals-bot`` process whose wall clock starts at a chosen moment (libfaketime).

The process runs as users run it; only the time it reads is moved: it starts at ``start`` and runs
at real speed from there, so a test can put the end of quiet hours or the digest time a few seconds
ahead without waiting for the real clock. The monotonic clock is left alone (asyncio's timers run
on it). Missing libfaketime skips the test, unless ``CI`` is set: then it fails (``.ci/run``
installs Debian's ``faketime``).
"""

from __future__ import annotations

import glob
import os
import time
from datetime import datetime, timedelta

import pytest

LIBRARY_PATTERNS = ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1")


def libfaketime() -> str:
    """The path of libfaketime; skips (or fails under ``CI``) when it is not installed."""
    for pattern in LIBRARY_PATTERNS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    message = "libfaketime is not installed (apt-get install faketime)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI is set, so this is an error", pytrace=False)
    pytest.skip(message)


class ProcessWallClock:
    """The wall clock of processes started with ``environment()``: ``start`` at ``started()``."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._library = libfaketime()
        self._started_at: float | None = None

    def environment(self) -> dict[str, str]:
        """Variables for the process; call ``started()`` right before starting it."""
        return {
            "LD_PRELOAD": self._library,
            "FAKETIME": self.start.strftime("@%Y-%m-%d %H:%M:%S"),
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_NO_CACHE": "1",
            "TZ": "UTC",  # FAKETIME is read in the process's zone
        }

    def started(self) -> None:
        self._started_at = time.monotonic()

    def now(self) -> datetime:
        """What the process reads as now (its clock started at ``start`` and runs at real speed)."""
        assert self._started_at is not None, "started() was not called"
        return self.start + timedelta(seconds=time.monotonic() - self._started_at)

    def seconds_until(self, moment: datetime) -> float:
        """How long until the process's clock reads ``moment`` (0 when it already has)."""
        return max(0.0, (moment - self.now()).total_seconds())
