"""Where the bot listens: ``HOST`` for every port, and ``/metrics`` apart on ``METRICS_PORT``."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from bot.settings import Settings
from tests.bot_runner import RunningBot
from tests.cli_process import EXECUTABLE, environment, free_port
from tests.waiting import wait_for


def test_with_metrics_port_set_metrics_are_served_there_and_not_on_port(
    start_bot: Callable[..., RunningBot],
) -> None:
    bot = start_bot(metrics_port=0)
    assert bot.server.metrics_port is not None
    metrics_url = f"http://127.0.0.1:{bot.server.metrics_port}"
    answer = httpx.get(f"{metrics_url}/metrics")
    assert answer.status_code == 200
    assert "approvals_cards_posted_total" in answer.text
    assert httpx.get(f"{bot.url}/metrics").status_code == 404
    assert httpx.get(f"{bot.url}/healthz").status_code == 200
    assert httpx.get(f"{metrics_url}/healthz").status_code == 404


def test_without_metrics_port_metrics_stay_on_port(bot: RunningBot) -> None:
    assert bot.server.metrics_port is None
    assert httpx.get(f"{bot.url}/metrics").status_code == 200


def test_metrics_port_must_differ_from_port(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="must differ from PORT"):
        make_settings(port=3000, metrics_port=3000)


def test_serve_binds_only_the_host_setting(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    settings = make_settings(host="127.0.0.2", port=port, metrics_port=metrics_port)
    log_path = tmp_path / "bot.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [EXECUTABLE, "serve"], env=environment(settings), cwd=tmp_path, stdout=log_file, stderr=log_file
        )
        try:
            wait_for(lambda: _answers(f"http://127.0.0.2:{port}/healthz"), timeout=30, what="the bot")
            assert _answers(f"http://127.0.0.2:{metrics_port}/metrics")
            # Another loopback address of the same machine: nothing listens there.
            for other in (f"http://127.0.0.1:{port}/healthz", f"http://127.0.0.1:{metrics_port}/metrics"):
                with pytest.raises(httpx.ConnectError):
                    httpx.get(other, timeout=5)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert f"listening on 127.0.0.2:{port} (metrics on port {metrics_port}" in log_path.read_text()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
