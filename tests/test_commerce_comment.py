"""The comment the bot stores in Commerce: names the Slack user and fits APRVSTATUS.COMMENTS."""

from __future__ import annotations

from bot.commerce.models import Decision
from bot.limits import COMMERCE_COMMENT_BYTES
from bot.services.decisions import DecisionRequest, commerce_comment


def test_comment_names_the_slack_user_and_keeps_the_reason() -> None:
    request = DecisionRequest("10003", Decision.REJECT, "U123", "jane", "over budget")
    assert commerce_comment(request) == "Rejected in Slack by @jane (U123): over budget"
    anonymous = DecisionRequest("10003", Decision.APPROVE, "U123", None, None)
    assert commerce_comment(anonymous) == "Approved in Slack by U123"


def test_long_multibyte_reason_is_cut_to_the_column_bytes_without_breaking_a_character() -> None:
    request = DecisionRequest("10003", Decision.REJECT, "U123", "jürgen", "Überfällig € " * 40)
    comment = commerce_comment(request)
    assert len(comment.encode()) <= COMMERCE_COMMENT_BYTES
    assert comment.startswith("Rejected in Slack by @jürgen (U123): Überfällig")
    assert comment.encode().decode() == comment  # still valid UTF-8 end to end
