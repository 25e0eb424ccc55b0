"""One version, written in ``bot/version.py``: ``--version``, the package, the image's label, the
changelog, and the ``User-Agent`` of every request the bot sends to Commerce, bol.com and Slack."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import RESPONSE_URL_PREFIX, SlackEmulator
from bot.settings import Settings
from bot.version import USER_AGENT, VERSION
from tests.cli_process import EXECUTABLE, base_environment, free_port
from tests.conftest import APPROVER, SIGNING_SECRET
from tests.replicas import Replica
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent


def test_version_prints_the_one_version_the_package_also_carries() -> None:
    result = subprocess.run(
        [EXECUTABLE, "--version"], env=base_environment(), capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"approvals-bot {VERSION}\n"
    assert version("commerce-approvals-bot") == VERSION


def test_the_images_version_label_defaults_to_the_version() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")

    assert re.findall(r"^ARG VERSION=(\S+)$", dockerfile, re.MULTILINE) == [VERSION]
    assert 'org.opencontainers.image.version="${VERSION}"' in dockerfile


def test_the_changelogs_newest_release_is_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)

    assert releases[0] in {VERSION, "Unreleased"}
    assert VERSION in releases


@pytest.fixture
def serving(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[Replica]:
    replica = Replica(
        make_settings(
            port=free_port(),
            notifier_enabled=True,
            approvals_poll_seconds=1,
            process_status_poll_seconds=1,
        ),
        tmp_path / "serve",
    )
    try:
        replica.wait_until_listening()
        yield replica
    finally:
        replica.stop()


def _product(request: RecordedRequest) -> str:
    """The first product of the request's ``User-Agent`` (Slack's carries slack_sdk's after ours)."""
    return request.headers.get("user-agent", "").split(" ")[0]


def test_every_request_serve_sends_to_commerce_bol_and_slack_names_the_version(
    serving: Replica, slack: SlackEmulator, commerce: CommerceEmulator, bol: BolEmulator
) -> None:
    commerce.add_approval(ApprovalKind.ORDER)
    process_id = bol.add_process()
    sender = SlackRequestSender(serving.url, SIGNING_SECRET)

    run_command(sender, slack, "/process-status", f"watch {process_id}", user=APPROVER, channel="C_OPS")
    run_command(sender, slack, "/approvals", "list", user=APPROVER, channel="C_OPS")
    wait_for(lambda: slack.calls("chat.postMessage"), timeout=30, what="the card")
    wait_for(lambda: bol.requests_to("POST", "/shared/process-status"), timeout=30, what="a process poll")

    answers = [r for r in slack.requests if r.path.startswith(RESPONSE_URL_PREFIX)]
    web_api = [r for r in slack.requests if not r.path.startswith(RESPONSE_URL_PREFIX)]
    assert answers and web_api and commerce.requests and bol.requests
    for requests in (web_api, answers, commerce.requests, bol.requests):
        others = [(r.path, r.headers.get("user-agent")) for r in requests if _product(r) != USER_AGENT]
        assert others == []
    assert f"commerce-approvals-bot/{VERSION}" == USER_AGENT
