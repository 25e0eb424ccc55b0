"""``approvals-bot check``: one pass/fail line per dependency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.bol.errors import BolError
from bot.commerce.errors import CommerceError
from bot.runtime import bol_client, commerce_client, slack_client
from bot.settings import Settings
from bot.storage.db import safe_url
from bot.storage.store import Store


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.detail}"


async def check_slack(settings: Settings) -> CheckResult:
    try:
        response = await slack_client(settings).auth_test()
    except SlackApiError as error:
        return CheckResult("slack", False, f"auth.test failed: {error.response.get('error')}")
    except Exception as error:
        return CheckResult("slack", False, f"cannot reach {settings.slack_api_url}: {type(error).__name__}")
    return CheckResult(
        "slack", True, f"authenticated as {response.get('user')} in team {response.get('team')}"
    )


async def check_commerce(settings: Settings) -> CheckResult:
    client = commerce_client(settings)
    try:
        await client.login()
    except CommerceError as error:
        return CheckResult(
            "commerce", False, f"login at {settings.commerce_base_url} failed: {error.message}"
        )
    finally:
        await client.aclose()
    return CheckResult(
        "commerce", True, f"logged in as {settings.commerce_logon_id} (store {settings.commerce_store_id})"
    )


async def check_bol(settings: Settings) -> CheckResult:
    client = bol_client(settings)
    try:
        await client.fetch_token()
    except BolError as error:
        return CheckResult("bol", False, f"token from {settings.bol_token_url} failed: {error.message}")
    finally:
        await client.aclose()
    return CheckResult("bol", True, "client credentials accepted")


async def check_database(settings: Settings) -> CheckResult:
    where = safe_url(settings.database_url)
    try:
        store = await Store.open(settings.database_url)
    except Exception as error:
        return CheckResult("database", False, f"cannot open {where}: {type(error).__name__}: {error}")
    try:
        ok = await store.ping()
    finally:
        await store.close()
    return CheckResult("database", ok, f"{where} {'ready' if ok else 'did not answer'}")


CHECKS: tuple[Callable[[Settings], Awaitable[CheckResult]], ...] = (
    check_slack,
    check_commerce,
    check_bol,
    check_database,
)


async def run_checks(settings: Settings) -> list[CheckResult]:
    return [await check(settings) for check in CHECKS]
