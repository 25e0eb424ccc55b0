"""Only the bot's own workspace is served, and VIEWERS says who may list and show approvals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.commerce.models import ApprovalKind
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, GROUP_MEMBER, OUTSIDER, SIGNING_SECRET
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.waiting import stays

VIEWER = "U_VIEWER"
VIEWER_GROUP = "S_VIEWERS"
VIEWER_GROUP_MEMBER = "U_VIEWER_FRIEND"


def text_of(answer: dict[str, Any]) -> str:
    return json.dumps(answer.get("blocks")) + str(answer.get("text"))


def test_a_slash_command_from_another_workspace_is_refused_in_plain_words(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    stranger = SlackRequestSender(bot.url, SIGNING_SECRET, team_id="T_OTHER")
    response = stranger.slash_command(
        "/approvals", f"approve {approval_id}", user_id=APPROVER, response_url=slack.new_response_url()
    )
    assert response.status_code == 200
    assert "workspace" in response.json()["text"]
    assert stays(lambda: commerce.requests_to("POST", "") == [] and commerce.requests_to("GET", "") == [])


def test_a_click_from_another_workspace_decides_nothing(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    stranger = SlackRequestSender(bot.url, SIGNING_SECRET, team_id="T_OTHER")
    response = stranger.block_action(
        APPROVE_ACTION_ID, approval_id, user_id=APPROVER, response_url=slack.new_response_url()
    )
    assert response.status_code == 403
    assert stays(lambda: commerce.requests_to("POST", "") == [])


def test_a_request_from_another_enterprise_is_refused(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    response_url = slack.new_response_url()
    fields = {
        "command": "/approvals",
        "text": "list",
        "user_id": APPROVER,
        "team_id": sender.team_id,  # the team id is ours, the organisation is not
        "enterprise_id": "E_OTHER",
        "channel_id": APPROVALS_CHANNEL,
        "response_url": response_url,
    }
    response = sender.send_form(fields)
    assert response.status_code == 200
    assert "workspace" in response.json()["text"]
    assert stays(lambda: commerce.requests_to("GET", "") == [])


def test_requests_from_our_own_workspace_are_served(bot: RunningBot, slack: SlackEmulator) -> None:
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    answer = run_command(sender, slack, "/approvals", "help", user=OUTSIDER, channel=APPROVALS_CHANNEL)
    assert "/approvals list" in text_of(answer)


def test_with_viewers_set_only_viewers_and_approvers_may_list_and_show(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    slack.usergroups[VIEWER_GROUP] = [VIEWER_GROUP_MEMBER]
    approval_id = commerce.add_approval(ApprovalKind.ORDER, first_name="Olga")
    bot = start_bot(viewers=f"{VIEWER},{VIEWER_GROUP}")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)

    def ask(text: str, user: str) -> str:
        return text_of(run_command(sender, slack, "/approvals", text, user=user, channel=APPROVALS_CHANNEL))

    for user in (VIEWER, VIEWER_GROUP_MEMBER, APPROVER, GROUP_MEMBER):
        assert approval_id in ask("list", user), user
        assert approval_id in ask(f"show {approval_id}", user), user
    reads = len(commerce.requests_to("GET", ""))
    for text in ("list", f"show {approval_id}"):
        refusal = ask(text, OUTSIDER)
        assert approval_id not in refusal and "VIEWERS" in refusal
    assert len(commerce.requests_to("GET", "")) == reads  # Commerce was not asked for the outsider


def test_without_viewers_everyone_in_the_workspace_may_list(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    answer = run_command(sender, slack, "/approvals", "list", user=OUTSIDER, channel=APPROVALS_CHANNEL)
    assert approval_id in text_of(answer)


def test_with_viewers_set_the_digest_is_only_for_viewers_and_approvers(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    commerce.add_approval(ApprovalKind.ORDER, first_name="Olga")
    bot = start_bot(viewers=VIEWER)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)

    def digest(user: str) -> str:
        return text_of(
            run_command(sender, slack, "/approvals", "digest", user=user, channel=APPROVALS_CHANNEL)
        )

    refusal = digest(OUTSIDER)
    assert "VIEWERS" in refusal and "Olga" not in refusal and "pending" not in refusal.lower()
    for user in (VIEWER, APPROVER):
        assert "VIEWERS" not in digest(user), user
