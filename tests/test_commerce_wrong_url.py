"""A COMMERCE_BASE_URL that is not Commerce's REST API is named as such, and never pauses logins."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.commerce.client import CommerceClient
from bot.commerce.errors import CommerceError
from bot.sandbox.base import Response
from bot.sandbox.commerce import CommerceEmulator
from bot.settings import Settings
from tests.cli_process import EXECUTABLE, environment

NOT_THE_API = "does not look like HCL Commerce's REST API (expected .../wcs/resources)"
HTML_PAGE = Response(
    status=200, body="<!DOCTYPE html><html><body>Welcome</body></html>", content_type="text/html"
)


def commerce_line(settings: Settings, cwd: Path) -> str:
    result = subprocess.run(
        [EXECUTABLE, "check"], env=environment(settings), cwd=cwd, capture_output=True, text=True, timeout=60
    )
    return next(line for line in result.stdout.splitlines() if " commerce:" in line)


def test_an_html_page_is_not_reported_as_a_refused_login(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    commerce.fail_next(5, HTML_PAGE)
    line = commerce_line(make_settings(), tmp_path)
    assert line.startswith("FAIL commerce") and NOT_THE_API in line, line
    assert "refused" not in line and "pauses" not in line


def test_a_url_without_wcs_resources_is_named(
    make_settings: Callable[..., Settings], commerce: CommerceEmulator, tmp_path: Path
) -> None:
    line = commerce_line(make_settings(commerce_base_url=f"{commerce.url}/shop"), tmp_path)
    assert line.startswith("FAIL commerce") and NOT_THE_API in line, line
    assert "pauses" not in line


def test_logins_to_something_that_is_not_commerce_are_not_paused(commerce: CommerceEmulator) -> None:
    commerce.fail_next(2, HTML_PAGE)

    async def two_logins() -> list[str]:
        messages = []
        async with CommerceClient(
            commerce.base_url, commerce.store_id, commerce.logon_id, SecretStr(commerce.password)
        ) as client:
            for _ in range(2):
                with pytest.raises(CommerceError) as failed:
                    await client.login()
                messages.append(failed.value.message)
            assert not client.login_paused
            await client.login()  # the URL is fixed (here: the page is gone): logging in works at once
        return messages

    messages = asyncio.run(two_logins())
    assert all(NOT_THE_API in message and "paused" not in message for message in messages), messages
