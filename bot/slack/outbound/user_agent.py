"""The ``User-Agent`` of every request to Slack: ``commerce-approvals-bot/VERSION``, then slack_sdk's own.

Bolt builds a Web API client per request from the app client's ``headers`` dict, and slack_sdk's
constructor writes its own ``User-Agent`` into the dict it is handed: the shared dict would lose
ours after the first request. :class:`SlackHeaders` keeps the first ``User-Agent`` it was given.
"""

from __future__ import annotations

from slack_sdk.web.internal_utils import get_user_agent

from bot.version import USER_AGENT


def slack_user_agent() -> str:
    """``commerce-approvals-bot/0.2.0 Python/3.11.7 slackclient/3.47.0 Linux/6.1``."""
    agent: str = get_user_agent(prefix=USER_AGENT)
    return agent


class SlackHeaders(dict[str, str]):
    """Request headers whose ``User-Agent``, once set, stays."""

    def __setitem__(self, key: str, value: str) -> None:
        if key.lower() == "user-agent" and any(name.lower() == "user-agent" for name in self):
            return
        super().__setitem__(key, value)


def with_our_user_agent(headers: dict[str, str]) -> SlackHeaders:
    """``headers`` with the bot's ``User-Agent`` in place of slack_sdk's, kept there."""
    kept = {name: value for name, value in headers.items() if name.lower() != "user-agent"}
    return SlackHeaders({**kept, "User-Agent": slack_user_agent()})
