"""Waiting for effects that happen after Slack's ack (eventual, not timed assertions)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], *, timeout: float = 15.0, interval: float = 0.02, what: str = "condition"
) -> T:
    """Returns the first truthy value of ``probe()``; fails the test if none comes within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def stays(probe: Callable[[], bool], *, for_seconds: float = 0.5, interval: float = 0.02) -> bool:
    """True if ``probe()`` holds during the whole window (used to show that nothing more happens)."""
    deadline = time.monotonic() + for_seconds
    while time.monotonic() < deadline:
        if not probe():
            return False
        time.sleep(interval)
    return True
