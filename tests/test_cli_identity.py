"""``approvals-bot approvers …``, ``audit`` and the run-as ``check`` line, as real processes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from tests.bot_runner import RunningBot
from tests.cli_process import EXECUTABLE, environment
from tests.conftest import APPROVER, SECOND_APPROVER, SIGNING_SECRET
from tests.identity_helpers import add_approver, answer_at, audit_of, link, new_card
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import click


def run(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXECUTABLE, *args], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_link_refuses_a_logon_id_commerce_does_not_know(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    settings = make_settings()
    add_approver(commerce, "jane.approver")

    result = run(settings, tmp_path, "approvers", "link", APPROVER, "ghost.user")

    assert result.returncode == 1
    assert "Commerce has no user with logon id 'ghost.user'" in result.stderr
    assert "nothing was linked" in result.stderr
    assert "Traceback" not in result.stderr
    listed = run(settings, tmp_path, "approvers", "list")
    assert listed.returncode == 0 and "ghost.user" not in listed.stdout and "no links yet" in listed.stdout


def test_link_list_and_unlink_a_slack_user(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    settings = make_settings()
    jane = add_approver(commerce, "Jane.Approver")

    linked = run(settings, tmp_path, "approvers", "link", APPROVER, "jane.approver")
    assert linked.returncode == 0, linked.stderr
    assert f"linked {APPROVER} to Commerce user Jane.Approver (user id {jane.user_id})" in linked.stdout
    lookups = commerce.requests_to("GET", "/person")
    assert lookups and lookups[-1].q("logonId") == "jane.approver" and lookups[-1].q("q") == "usersICanAdmin"

    listed = run(settings, tmp_path, "approvers", "list")
    header, row = listed.stdout.splitlines()
    assert header.split("  ")[0] == "SLACK USER"
    assert row.split()[:4] == [APPROVER, "Jane.Approver", jane.user_id, "cli"]

    assert run(settings, tmp_path, "approvers", "unlink", APPROVER).returncode == 0
    again = run(settings, tmp_path, "approvers", "unlink", APPROVER)
    assert again.returncode == 1 and "is not linked" in again.stderr
    bad = run(settings, tmp_path, "approvers", "link", "not-a-user", "jane.approver")
    assert bad.returncode == 1 and "is not a Slack user id" in bad.stderr


def test_link_refuses_a_commerce_user_already_linked_to_another_slack_user(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    settings = make_settings()
    add_approver(commerce, "jane.approver")
    assert run(settings, tmp_path, "approvers", "link", APPROVER, "jane.approver").returncode == 0

    second = run(settings, tmp_path, "approvers", "link", SECOND_APPROVER, "Jane.Approver")

    assert second.returncode == 1
    assert f"jane.approver is already linked to {APPROVER}" in second.stderr
    assert "nothing was linked" in second.stderr and "Traceback" not in second.stderr
    rows = run(settings, tmp_path, "approvers", "list").stdout.splitlines()[1:]
    assert [row.split()[0] for row in rows] == [APPROVER]
    relinked = run(settings, tmp_path, "approvers", "link", APPROVER, "jane.approver")
    assert relinked.returncode == 0, relinked.stderr  # the same Slack user again: not a second person


def test_audit_prints_both_identities_as_csv_json_and_a_table(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
) -> None:
    bot = start_bot(decide_as="linked-user")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    jane = add_approver(commerce, "jane.approver")
    link(bot, APPROVER, jane)
    approval_id, ts = new_card(bot, slack, commerce)
    answer_at(slack, click(sender, slack, APPROVE_ACTION_ID, approval_id, SECOND_APPROVER, ts))  # unlinked
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    audit_of(bot, approval_id, "ok")
    other_id, _ = new_card(bot, slack, commerce)
    settings = bot.settings

    as_csv = run(settings, tmp_path, "audit", "--approval", approval_id, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["slack_user_id"], r["outcome"], r["acted_as"], r["commerce_user_id"]) for r in rows] == [
        (SECOND_APPROVER, "unlinked", "", ""),
        (APPROVER, "ok", "jane.approver", jane.user_id),
    ]
    assert rows[1]["slack_user_name"] and rows[1]["at"].startswith("20")

    as_json = run(settings, tmp_path, "audit", "--format", "json")
    entries = json.loads(as_json.stdout)
    assert [e["approval_id"] for e in entries] == [approval_id, approval_id]
    assert entries[1]["acted_as"] == "jane.approver" and other_id not in as_json.stdout

    table = run(settings, tmp_path, "audit")
    assert table.stdout.splitlines()[0].startswith("AT")
    assert "jane.approver" in table.stdout
    later = run(settings, tmp_path, "audit", "--since", "2999-01-01", "--format", "json")
    assert json.loads(later.stdout) == []
    bad = run(settings, tmp_path, "audit", "--since", "yesterday")
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_audit_names_the_service_account_when_the_bot_decides_as_itself(
    bot: RunningBot,
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    sender: SlackRequestSender,
    tmp_path: Path,
) -> None:
    approval_id, ts = new_card(bot, slack, commerce)
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    audit_of(bot, approval_id, "ok")

    rows = json.loads(run(bot.settings, tmp_path, "audit", "--format", "json").stdout)

    assert [(r["slack_user_id"], r["acted_as"]) for r in rows] == [
        (APPROVER, f"{commerce.logon_id} (service account)")
    ]


def test_check_verifies_run_as_when_deciding_as_linked_users(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    settings = make_settings(decide_as="linked-user")
    unlinked = run(settings, tmp_path, "check")
    assert unlinked.returncode == 1
    assert "FAIL run-as: DECIDE_AS=linked-user, but no Slack user is linked yet" in unlinked.stdout

    add_approver(commerce, "jane.approver")
    assert run(settings, tmp_path, "approvers", "link", APPROVER, "jane.approver").returncode == 0
    passing = run(settings, tmp_path, "check")
    assert passing.returncode == 0, passing.stdout
    assert "PASS run-as" in passing.stdout
    read = commerce.requests_to("GET", "/approval_status")[-1]
    assert read.q("forUserId") is not None

    with commerce.lock:
        commerce.people.may_act_for_others = False
    failing = run(settings, tmp_path, "check")
    assert failing.returncode == 1
    line = next(line for line in failing.stdout.splitlines() if "run-as" in line)
    assert line.startswith("FAIL run-as") and "CMN1501E" in line and "act on behalf of other users" in line
    # The README promises the line names the role the service account needs.
    assert "Customer Service Representative" in line and "Customer Service Supervisor" in line
    assert "PASS commerce" in failing.stdout


def test_check_has_no_run_as_line_when_the_bot_decides_as_itself(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    result = run(make_settings(), tmp_path, "check")
    assert result.returncode == 0 and "run-as" not in result.stdout


def test_auto_link_without_trusted_domains_is_refused_at_start(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    env = environment(make_settings(), AUTO_LINK_BY_EMAIL="true")
    result = subprocess.run(
        [EXECUTABLE, "check"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "set AUTO_LINK_EMAIL_DOMAINS" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
