"""Running the real ``approvals-bot`` executable in a subprocess, with settings in its environment."""

from __future__ import annotations

import os
import socket
import sys
from datetime import timedelta
from pathlib import Path

from bot.settings import Settings

EXECUTABLE = str(Path(sys.executable).with_name("approvals-bot"))
PASSED_THROUGH = ("PATH", "HOME", "LANG", "SYSTEMROOT")


def base_environment() -> dict[str, str]:
    """The few variables a process needs, and none of the bot's settings."""
    return {k: v for k, v in os.environ.items() if k in PASSED_THROUGH}


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = base_environment()
    for name in type(settings).model_fields:
        value = getattr(settings, name)  # not model_dump(): it turns a QuietHours into a dict
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, list):
            value = ",".join(
                str(item.get_secret_value() if hasattr(item, "get_secret_value") else item) for item in value
            )
        if isinstance(value, timedelta):
            value = int(value.total_seconds())  # as the README says to write them: seconds
        env[name.upper()] = str(value)
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
