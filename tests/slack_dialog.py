"""A user typing a slash command: the signed request, then the answer the user sees.

Like Slack: an answer in the ack's body is shown at once; otherwise the first message posted to the
command's response_url is the answer.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack import SlackEmulator
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for


def run_command(
    sender: SlackRequestSender, slack: SlackEmulator, command: str, text: str, *, user: str, channel: str
) -> dict[str, Any]:
    """Sends ``command text`` as ``user`` in ``channel``; returns the answer (from the ack or posted back)."""
    response_url = slack.new_response_url()
    response = sender.slash_command(
        command, text, user_id=user, channel_id=channel, response_url=response_url
    )
    assert response.status_code == 200
    if response.content:
        answer: dict[str, Any] = response.json()
        return answer
    return wait_for(lambda: slack.responses(response_url), what=f"the answer to {command} {text}")[0]
