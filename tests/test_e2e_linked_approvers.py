"""End to end: what ``DECIDE_AS=bot`` cannot see is said by ``check`` and at start, and
``REQUIRE_LINKED_APPROVERS=true`` refuses unlinked approvers at every entry point."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, REJECT_ACTION_ID
from tests.bot_runner import RunningBot
from tests.cli_process import EXECUTABLE, environment
from tests.conftest import (
    APPROVALS_CHANNEL,
    APPROVER,
    APPROVER_GROUP,
    GROUP_MEMBER,
    SECOND_APPROVER,
    SIGNING_SECRET,
)
from tests.identity_helpers import add_approver, answer_at, approval_calls, audit_of, link, new_card
from tests.routes_helpers import FINANCE_1, FINANCE_2, routes_file
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_app_home import open_home
from tests.test_e2e_approvals import click, decision_posts
from tests.waiting import wait_for

REFUSED = "only lets approvers linked to a Commerce user decide"


def check(settings: Settings, cwd: Path) -> str:
    result = subprocess.run(
        [EXECUTABLE, "check"], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return next(line for line in result.stdout.splitlines() if "approver-links" in line)


def test_check_names_unlinked_approvers_and_the_two_person_routes_they_cannot_vote_on(
    make_settings: Callable[..., Settings], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    slack.usergroups[APPROVER_GROUP] = [GROUP_MEMBER]
    settings = make_settings(approvals_routes_file=routes_file(tmp_path))

    line = check(settings, tmp_path)

    assert line.startswith("WARN approver-links: approvers not linked to a Commerce user:")
    for user in (APPROVER, SECOND_APPROVER, GROUP_MEMBER, FINANCE_1, FINANCE_2):
        assert user in line
    assert "cannot detect when they approve their own request" in line
    assert (
        "route large-orders needs 2 approvals and counts only linked approvers' votes; "
        f"not linked there: {FINANCE_1}, {FINANCE_2}" in line
    )

    jane = add_approver(commerce, "jane.approver")
    linked = subprocess.run(
        [EXECUTABLE, "approvers", "link", APPROVER, jane.logon_id],
        env=environment(settings),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert linked.returncode == 0, linked.stderr
    assert APPROVER + "," not in check(settings, tmp_path).replace(" ", "")


def test_the_start_log_names_the_unlinked_approvers(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.server")

    start_bot()

    line = wait_for(
        lambda: next((r.getMessage() for r in caplog.records if "not linked" in r.getMessage()), None),
        what="the start warning",
    )
    assert APPROVER in line and SECOND_APPROVER in line and "self-approval" in line
    groups = wait_for(
        lambda: next((r.getMessage() for r in caplog.records if "user groups" in r.getMessage()), None),
        what="the groups named",
    )
    assert APPROVER_GROUP in groups and "approvals-bot check" in groups
    assert slack.calls("usergroups.users.list") == []  # no Slack call at start


def test_required_links_refuse_an_unlinked_approver_at_every_entry_point(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(require_linked_approvers=True)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    approval_id, ts = new_card(bot, slack, commerce)
    calls_before = len(approval_calls(commerce, approval_id))

    for action in (APPROVE_ACTION_ID, REJECT_ACTION_ID):  # the card's buttons (Reject: before its dialog)
        assert REFUSED in answer_at(slack, click(sender, slack, action, approval_id, APPROVER, ts))["text"]
    assert slack.calls("views.open") == []
    command = run_command(
        sender, slack, "/approvals", f"approve {approval_id}", user=APPROVER, channel=APPROVALS_CHANNEL
    )
    assert REFUSED in command["text"]
    open_home(sender, slack, APPROVER)
    publishes = len(slack.calls("views.publish"))
    sender.home_action(APPROVE_ACTION_ID, approval_id, APPROVER)
    wait_for(lambda: len(slack.calls("views.publish")) > publishes, what="the Home with a notice")
    assert REFUSED in json.dumps(slack.home_view(APPROVER))

    assert decision_posts(commerce, approval_id) == []
    assert len(audit_of(bot, approval_id, "unlinked")) == 4
    assert len(approval_calls(commerce, approval_id)) == calls_before

    link(bot, APPROVER, add_approver(commerce, "jane.approver"))
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the linked approver's approve")
