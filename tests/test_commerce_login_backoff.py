"""A refused Commerce login pauses logging in (doubling back-off): no account lock-out from a bad password."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from bot.commerce.client import CommerceClient, LoginBackoff
from bot.commerce.errors import CommerceAuthError
from bot.commerce.models import ApprovalKind, ApprovalQuery
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_after_a_refused_login_no_login_is_tried_until_the_back_off_ends(
    commerce: CommerceEmulator,
) -> None:
    clock = Clock()

    async def scenario() -> list[int]:
        seen = []
        async with CommerceClient(
            commerce.base_url,
            commerce.store_id,
            commerce.logon_id,
            SecretStr("wrong-password"),
            login_backoff=LoginBackoff(30, clock),
        ) as client:
            for advance in (0, 1, 10, 20, 1, 58, 2):  # 30 s back-off, then 60 s
                clock.now += advance
                with pytest.raises(CommerceAuthError):
                    await client.list_approvals(ApprovalQuery(kind=ApprovalKind.ORDER))
                seen.append(commerce.failed_logins)
        return seen

    assert asyncio.run(scenario()) == [1, 1, 1, 2, 2, 2, 3]


def test_a_paused_login_is_explained_and_the_password_fixed_resumes_it(commerce: CommerceEmulator) -> None:
    clock = Clock()

    async def scenario() -> tuple[str, int]:
        async with CommerceClient(
            commerce.base_url,
            commerce.store_id,
            commerce.logon_id,
            SecretStr(commerce.password),
            login_backoff=LoginBackoff(30, clock),
        ) as client:
            correct = commerce.password
            commerce.password = "rotated-in-commerce"
            with pytest.raises(CommerceAuthError):
                await client.login()
            with pytest.raises(CommerceAuthError) as paused:
                await client.list_approvals(ApprovalQuery(kind=ApprovalKind.ORDER))
            commerce.password = correct
            clock.now += 30
            await client.list_approvals(ApprovalQuery(kind=ApprovalKind.ORDER))
            return paused.value.message, commerce.failed_logins

    message, failed = asyncio.run(scenario())
    assert "paused" in message and "30 s" in message
    assert failed == 1


def test_the_paused_login_shows_in_a_metric_and_users_get_a_plain_error(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(commerce_logon_password="wrong-password")
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    answers = [
        run_command(sender, slack, "/approvals", "list", user=APPROVER, channel=APPROVALS_CHANNEL)
        for _ in range(3)
    ]
    assert commerce.failed_logins == 1
    assert all("Commerce" in str(answer) for answer in answers)
    assert "paused" in str(answers[-1])
    metrics = httpx.get(f"{bot.url}/metrics").text
    assert re.search(r"^commerce_login_paused 1\.0$", metrics, re.M)
