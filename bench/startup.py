"""Start-up and idle memory: ``approvals-bot serve`` against a bare Bolt app started the same way.

Each is a fresh process started from the shell's point of view (``subprocess.Popen`` of the
executable); start-up is the time from that call to the first ``200`` from ``/healthz`` (asked every
few milliseconds), idle RSS the process's resident memory ``IDLE_SECONDS`` later. The bot runs as
users run it: SQLite (a file already migrated by a warm-up start, as on every restart), the notifier
on, Slack, Commerce and bol.com emulated in another process. Rounds alternate bot and baseline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.remote import Remote
from bench.report import Figure
from tests.cli_process import base_environment, free_port

EXECUTABLE = str(Path(sys.executable).with_name("approvals-bot"))
BARE_BOLT = str(Path(__file__).with_name("bare_bolt.py"))
IDLE_SECONDS = 3.0
POLL_SECONDS = 0.003
START_TIMEOUT_SECONDS = 60.0


def bot_environment(addresses: dict[str, str], database: str, port: int) -> dict[str, str]:
    env = base_environment()
    env.update({name.upper(): value for name, value in addresses.items()})
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench-token",
            "SLACK_SIGNING_SECRET": "bench-signing-secret",
            "APPROVALS_CHANNEL": "C_BENCH",
            "PROCESS_STATUS_CHANNEL": "C_BENCH",
            "APPROVERS": "U_BENCH",
            "DATABASE_URL": f"sqlite:///{database}",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def start_once(command: list[str], env: dict[str, str], port: int) -> tuple[float, float]:
    """(ms to a healthy ``/healthz``, idle RSS in MiB) of one fresh process, stopped afterwards."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not healthy(port):
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            if time.perf_counter() - started > START_TIMEOUT_SECONDS:
                raise RuntimeError(f"{command[0]} not healthy after {START_TIMEOUT_SECONDS:.0f} s")
            time.sleep(POLL_SECONDS)
        ready_ms = (time.perf_counter() - started) * 1000
        time.sleep(IDLE_SECONDS)
        return ready_ms, rss_mib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(emulators: Remote, rounds: int) -> list[Figure]:
    addresses = emulators.call("addresses")
    start = Figure("start-up to healthy /healthz", "ms", "bare Bolt", target="<= 2x")
    idle = Figure("idle RSS after start-up", "MiB", "bare Bolt", target="<= 1.5x")
    # The same bare Bolt app having imported the bot's specified libraries: the floor of any bot
    # built on them, against bare Bolt, and the bot against that floor.
    floor_start = Figure("start-up: Bolt + the bot's libraries", "ms", "bare Bolt")
    floor_idle = Figure("idle RSS: Bolt + the bot's libraries", "MiB", "bare Bolt")
    over_floor_start = Figure("start-up to healthy /healthz", "ms", "Bolt + libraries")
    over_floor_idle = Figure("idle RSS after start-up", "MiB", "Bolt + libraries")
    with tempfile.TemporaryDirectory() as tmp:
        database = os.path.join(tmp, "startup.db")
        port = free_port()
        bot = ([EXECUTABLE, "serve"], bot_environment(addresses, database, port))
        bolt_command = [sys.executable, BARE_BOLT, str(port), addresses["slack_api_url"]]
        bolt = (bolt_command, base_environment())
        floor = ([*bolt_command, "--with-dependencies"], base_environment())
        start_once(*bot, port)  # warm-up: migrates the new database, fills the page cache
        start_once(*bolt, port)
        start_once(*floor, port)
        for _ in range(rounds):
            bot_ms, bot_rss = start_once(*bot, port)
            bolt_ms, bolt_rss = start_once(*bolt, port)
            floor_ms, floor_rss = start_once(*floor, port)
            start.add(bot_ms, bolt_ms)
            idle.add(bot_rss, bolt_rss)
            floor_start.add(floor_ms, bolt_ms)
            floor_idle.add(floor_rss, bolt_rss)
            over_floor_start.add(bot_ms, floor_ms)
            over_floor_idle.add(bot_rss, floor_rss)
    return [start, idle, floor_start, floor_idle, over_floor_start, over_floor_idle]
