"""One line about why one item of a poll round failed (the round goes on with the others)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.bol.errors import BolError
from bot.commerce.errors import CommerceError
from bot.slack.outbound.poster import slack_error_code


def describe(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return f"Slack answered {slack_error_code(error) or 'with something that was not Slack'}"
    if isinstance(error, CommerceError | BolError):
        return error.message
    return f"{type(error).__name__}: {error}"


class NotifierRoundIncomplete(Exception):
    """Some items of a round failed (each was logged); the others were handled."""
