"""``approvals-bot demo`` in a subprocess, as a user starts it: its first line, its URL, its stop."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from pathlib import Path

from tests.cli_process import EXECUTABLE, base_environment
from tests.waiting import wait_for

URL = re.compile(r"http://127\.0\.0\.1:\d+/")


class DemoProcess:
    """Starts the demo on a free port in ``directory``; ``url`` is the page it printed."""

    def __init__(self, directory: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [EXECUTABLE, "demo", "--port", "0", *extra],
            cwd=directory,
            env=env if env is not None else base_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url: str = wait_for(self._url, timeout=60, what="the demo's URL")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _url(self) -> str:
        for line in self.lines:
            found = URL.search(line)
            if found:
                return found.group(0)
        if self.process.poll() is not None:
            raise AssertionError(f"the demo stopped: {self.lines}")
        return ""

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Sends ``signum`` and returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=30)
        finally:
            self._reader.join(timeout=5)
