"""The comment the bot writes on a Commerce approval, and how to recognise it again.

``Approved in Slack by @jane (U123): looks fine`` names the Slack user, so Commerce's own history
shows who acted, and a decision whose answer was lost can later be credited to that user. The text
is cut at ``COMMERCE_COMMENT_BYTES`` UTF-8 bytes, never inside a character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.commerce.models import Decision
from bot.limits import COMMERCE_COMMENT_BYTES, decision_comment

_SIGNED = re.compile(
    r"(?P<verb>Approved|Rejected) in Slack by "
    r"(?:@(?P<name>[^()\n]{1,100}) \((?P<id>[UW][A-Z0-9_]{2,30})\)|(?P<bare>[UW][A-Z0-9_]{2,30}))"
    r"(?:: (?P<note>.*))?",
    re.DOTALL,
)


@dataclass(frozen=True)
class SlackSignature:
    """Who decided in Slack, read back from the comment the bot wrote in Commerce."""

    decision: Decision
    slack_user_id: str
    slack_user_name: str | None
    note: str | None


def signed_comment(
    decision: Decision, slack_user_id: str, slack_user_name: str | None, note: str | None
) -> str:
    """The comment for Commerce: who decided in Slack, then their note, within Commerce's byte limit.

    The wording is :func:`bot.limits.decision_comment` (which the Slack side measures to refuse notes
    that would not fit); the cut here is the last guard."""
    text = decision_comment(decision.verb, slack_user_id, slack_user_name, note)
    return text.encode()[:COMMERCE_COMMENT_BYTES].decode(errors="ignore")


def read_signature(comment: str | None) -> SlackSignature | None:
    """The Slack decision a comment written by ``signed_comment`` records; ``None`` for any other text."""
    match = _SIGNED.fullmatch(comment.strip()) if comment else None
    if match is None:
        return None
    decision = Decision.APPROVE if match["verb"] == "Approved" else Decision.REJECT
    return SlackSignature(decision, match["id"] or match["bare"], match["name"], match["note"] or None)
