"""What the bot writes (logs, Slack answers, ``check`` lines) never shows a secret or a capability."""

from __future__ import annotations

import pytest

from bot.logging_setup import MASK, SecretMaskingFilter


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/actions/T0123ABCD/7012345678901/aBcDeFgHiJkLmNoPqRsTuVwX",
        "https://hooks.slack.com/commands/T0123ABCD/7012345678901/aBcDeFgHiJkLmNoPqRsTuVwX",
        "https://hooks.slack-gov.com/actions/T0123ABCD/7012345678901/aBcDeFgHiJkLmNoPqRsTuVwX",
    ],
)
def test_a_response_url_is_masked_as_it_is_a_30_minute_capability(url: str) -> None:
    line = f"Sending a request - url: {url}, body: {{'response_url': '{url}'}}"
    masked = SecretMaskingFilter().mask(line)
    assert "aBcDeFgHiJkLmNoPqRsTuVwX" not in masked and "7012345678901" not in masked
    assert masked.count(MASK) == 2


def test_configured_secrets_and_slack_tokens_are_masked() -> None:
    masker = SecretMaskingFilter(["hunter2-password"])
    masked = masker.mask("login with hunter2-password and xoxb-123-456-abc")
    assert masked == f"login with {MASK} and {MASK}"
