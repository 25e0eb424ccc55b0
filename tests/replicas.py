"""Bot replicas as real ``approvals-bot serve`` processes, for what several replicas do together."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.settings import Settings
from tests.cli_process import environment
from tests.waiting import wait_for

EXECUTABLE = str(Path(sys.executable).with_name("approvals-bot"))
LOG_LINES_ON_FAILURE = 120

started: list[Replica] = []
"""The replicas the running test started: a failed test's report ends with their logs."""


class Replica:
    """One ``approvals-bot serve`` process; its log goes to a file (a pipe nobody reads would block it)."""

    def __init__(self, settings: Settings, workdir: Path, *, extra_env: dict[str, str] | None = None) -> None:
        """``extra_env`` is added to the process's environment (``LD_PRELOAD`` of a fake clock, say)."""
        self.name = settings.replica_id
        self.url = f"http://127.0.0.1:{settings.port}"
        self.log_path = workdir / f"{self.name}.log"
        workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(
                [EXECUTABLE, "serve"],
                env=environment(settings, **(extra_env or {})),
                cwd=workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        started.append(self)

    def __repr__(self) -> str:
        return f"Replica({self.name})"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def get(self, path: str) -> httpx.Response | None:
        """``GET path`` on the replica; ``None`` when it does not answer."""
        try:
            return httpx.get(self.url + path, timeout=2)
        except httpx.HTTPError:
            return None

    def wait_until_listening(self) -> None:
        def listening() -> bool:
            assert self.alive, f"{self.name} exited:\n{self.log()}"
            response = self.get("/healthz")
            return response is not None and response.status_code == 200

        wait_for(listening, timeout=60, what=f"{self.name} to listen")

    def metric(self, name: str, **labels: str) -> float | None:
        """The value of the sample ``name`` with these labels; ``None`` when there is none (or no answer)."""
        response = self.get("/metrics")
        if response is None or response.status_code != 200:
            return None
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return None

    def leading(self) -> bool | None:
        """Whether this replica says it runs the pollers; ``None`` when it does not answer."""
        value = self.metric("notifier_leader", replica=self.name)
        return None if value is None else value == 1

    def polls(self, poller: str) -> int:
        """Rounds of ``poller`` this replica finished (either outcome)."""
        return sum(
            int(self.metric("notifier_polls_total", poller=poller, outcome=outcome) or 0)
            for outcome in ("ok", "error")
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """``kill -9``: no clean-up of any kind."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, as the orchestrator sends; returns the exit code."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)


def the_leader(replicas: list[Replica]) -> Replica | None:
    """The one replica that runs the pollers, when every replica answers and exactly one says so."""
    answers = [replica.leading() for replica in replicas]
    if None in answers or answers.count(True) != 1:
        return None
    return replicas[answers.index(True)]


def wait_for_leader(replicas: list[Replica], *, what: str = "one replica to lead") -> Replica:
    """The leader once exactly one of ``replicas`` says it runs the pollers (fails the test otherwise)."""
    found: list[Replica] = []

    def probe() -> bool:
        leader = the_leader(replicas)
        if leader is not None:
            found.append(leader)
        return leader is not None

    wait_for(probe, timeout=30, what=what)
    return found[-1]


def failure_sections() -> list[tuple[str, str]]:
    """The last lines of each started replica's log, as report sections (CI prints no other trace of
    what a bot process did)."""
    return [
        (f"log of {replica.name}, last lines", _tail(replica.log(), LOG_LINES_ON_FAILURE))
        for replica in started
        if replica.log_path.exists()
    ]


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])
